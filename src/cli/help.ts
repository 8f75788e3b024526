/** The CLI's --help text. */
export const HELP = `clusterscope: what a qcow2 image contains, computed as QEMU computes it

Usage:
  clusterscope map [--output=json|human] [--no-backing] [--snapshot=NAME] [--qemu=X.Y] [--zero-scan] FILE
      Equals 'qemu-img map [--output=json] FILE' of QEMU X.Y (default: newest).
      --no-backing   as qemu-img map of json:{"driver":"qcow2","backing":null,"file":{...}}
      --snapshot     map an internal snapshot's L1 table instead of the active one
      --qemu=X.Y     field set of that release: 8.2+ adds "compressed"; 6.1-8.1 have
                     "present"; 6.0 and older have neither
  clusterscope nbd-map [--context=base:allocation|qemu:allocation-depth] [--qemu=X.Y]
                       [--no-backing] [--output=text|json] [--zero-scan] FILE
      Equals 'nbdinfo --map[=CONTEXT]' against 'qemu-nbd -r -t -A -f qcow2 FILE'.
      --qemu=X.Y     server semantics: 5.2 and older set HOLE for "not allocated";
                     6.0 and newer set HOLE for "no data"
  clusterscope info [--output=json|human] FILE
      The format fields of 'qemu-img info --output=json --backing-chain FILE'.
  clusterscope check [--output=json|human] FILE
      The fields of 'qemu-img check --output=json FILE', and its exit status.

Backing files are found as QEMU finds them: relative names relative to the image's directory.

One inherent difference from QEMU: qemu-img also asks the host file system whether a data
cluster lies in a hole (SEEK_HOLE) and then reports "zero": true, "data": true (for example
on preallocation=metadata images). File contents cannot show host holes, so clusterscope
reports such clusters as data. --zero-scan reads the data clusters and marks all-zero 4 KiB
blocks as zero, which matches QEMU on a sparse file whose holes are exactly its zero blocks.
Raw layers are read as data everywhere for the same reason.

Bad input ends with exit status 1 and one line naming the file, the structure and the offset.
`;
