/**
 * Block-status flags, with QEMU's names and values (include/block/block-common.h), so a
 * dumped extent reads the same as a QEMU trace.
 */
export const BDRV_BLOCK_DATA = 0x01;
export const BDRV_BLOCK_ZERO = 0x02;
export const BDRV_BLOCK_OFFSET_VALID = 0x04;
export const BDRV_BLOCK_ALLOCATED = 0x10;
export const BDRV_BLOCK_COMPRESSED = 0x80;

export const flagNames = (f: number): string => {
  const names: string[] = [];
  if (f & BDRV_BLOCK_DATA) names.push('DATA');
  if (f & BDRV_BLOCK_ZERO) names.push('ZERO');
  if (f & BDRV_BLOCK_OFFSET_VALID) names.push('OFFSET_VALID');
  if (f & BDRV_BLOCK_ALLOCATED) names.push('ALLOCATED');
  if (f & BDRV_BLOCK_COMPRESSED) names.push('COMPRESSED');
  return names.length ? names.join('|') : '0';
};
