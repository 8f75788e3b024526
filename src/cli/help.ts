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
  clusterscope info [--output=json|human] [--backing-chain] [-f FMT] FILE
      Equals 'qemu-img info [--output=json] [--backing-chain] FILE' (as qemu-img, the chain
      only with --backing-chain); "actual-size" is the file's allocated size on this host.
  clusterscope check [--output=json|human] FILE
      The fields of 'qemu-img check --output=json FILE', and its exit status.

  clusterscope diff --a=INTERP[@VIEW] [--b=[INTERP][@VIEW]] [--output=text|json|csv]
                    [--no-reasons] FILE [FILE2]
      Where two interpretations disagree: differing extents, bytes per kind of
      disagreement ("A zero / B hole,zero") and the reason in words for each.
      With FILE2, A reads FILE and B reads FILE2 (compared where both sizes reach;
      the longer one's tail is its own kind). Without --b, B is A; --b=@VIEW keeps
      A's interpretation. Exit status 0 whether or not they differ.
      INTERP: qemu-img-map-6.0 (1.7-6.0), qemu-img-map-7.2 (6.1-8.1), qemu-img-map-8.2,
              nbd-base-allocation-6.0, nbd-base-allocation-5.2, nbd-allocation-depth,
              nbd-base-allocation-proposed-2021-06 (proposed, not merged),
              nbd-joint-allocation-proposed-2021-06 (proposed, never merged),
              reads-as-zero (content scan)            (clusterscope diff --list)
      VIEW:   comma-separated: chain (default) | backing-null | snapshot:NAME | zero-scan
      e.g. diff --a=nbd-base-allocation-5.2@backing-null --b=nbd-base-allocation-6.0@backing-null top.qcow2
  clusterscope diff --a=INTERP[@VIEW] --format=FORMAT FILE
      One interpretation in its tool's text: qemu-img-map-json, qemu-img-map-human
      (qemu-img map of that release), nbdinfo, nbdinfo-json (nbdinfo --map [--json]),
      or native (the first of those the interpretation has).

  clusterscope map-file [--output=summary|native] [--context=CONTEXT] [--qemu=X.Y] FILE
      Reads a map another tool printed (qemu-img map --output=json or human, nbdinfo --map
      or --map --json) as the page reads a dropped one and says what it holds; native prints
      it back in its own format.

Backing files are found as QEMU finds them: relative names relative to the image's directory.

One inherent difference from QEMU: qemu-img also asks the host file system whether a data
cluster lies in a hole (SEEK_HOLE) and then reports "zero": true, "data": true (for example
on preallocation=metadata images). File contents cannot show host holes, so clusterscope
reports such clusters as data. --zero-scan reads the data clusters and marks all-zero 4 KiB
blocks as zero, which matches QEMU on a sparse file whose holes are exactly its zero blocks.
Raw layers are read as data everywhere for the same reason.

Bad input ends with exit status 1 and one line naming the file, the structure and the offset.
`;
