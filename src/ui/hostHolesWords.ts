/**
 * The words the page and the README share about host holes (issue 11: "the README says what the
 * page does about host holes in the same words the page uses"; hostHolesWords.test.ts holds the
 * README to them).
 */
export const HOST_HOLES_WHY =
  'QEMU also asks the host file system where a file has holes (SEEK_DATA/SEEK_HOLE). A browser File, and any copy of an image that is not sparse (a git checkout, most downloads), cannot show holes, so by default clusterscope answers as QEMU does on a dense copy of the same bytes.';

export const HOST_HOLES_SCAN =
  'The content scan reads the data and applies both rules to every all-zero 4 KiB block, which equals QEMU on a sparse file whose holes are exactly its zero blocks';
