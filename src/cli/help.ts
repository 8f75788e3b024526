/** The CLI's --help text. */
export const HELP = `clusterscope: what a qcow2 image contains, computed as QEMU computes it

Usage:
  clusterscope map [--output=json|human] [--no-backing] [--snapshot=NAME] [--qemu=X.Y] [--zero-scan] FILE
      Equals 'qemu-img map [--output=json] FILE' of QEMU X.Y (default: newest).
      --no-backing   as qemu-img map of json:{"driver":"qcow2","backing":null,"file":{...}}
      --snapshot     map an internal snapshot's L1 table instead of the active one
      --qemu=X.Y     field set of that release: 8.2+ adds "compressed"; 6.1-8.1 have
                     "present"; 6.0 and older have neither
  clusterscope nbd-map [--context=base:allocation|qemu:allocation-depth|qemu:dirty-bitmap:NAME]
                       [--qemu=X.Y] [--no-backing] [--output=text|json] [--zero-scan] FILE
      Equals 'nbdinfo --map[=CONTEXT] [--json]' against 'qemu-nbd -r -t -A [-B NAME] -f qcow2 FILE'.
      --qemu=X.Y     server semantics: 5.2 and older set HOLE for "not allocated";
                     6.0 and newer set HOLE for "no data"
      qemu:dirty-bitmap:NAME  the first layer from the top with a bitmap NAME, as qemu-nbd -B
                     finds it; an in-use bitmap is refused as inconsistent, as qemu-nbd does
                     (interpretation id nbd-dirty-bitmap-NAME, NAME's bytes outside
                     [a-z0-9-] written as .XX)
  clusterscope compare [-s] [-f FMT] [-F FMT] [--ranges [--output=text|json]] FILE1 FILE2
      Equals 'qemu-img compare [-s] FILE1 FILE2': "Images are identical." (exit 0),
      "Content mismatch at offset N!" (1), strict-mode mismatches (1), an image that cannot
      be opened (2). --ranges lists every differing range (offset, length) instead.
  clusterscope measure [--output=json|human] [-O raw|qcow2] [-o OPTIONS] [-f FMT] FILE
      Equals 'qemu-img measure': required size, fully allocated size and bitmaps size.
      OPTIONS: cluster_size, extended_l2, compat, refcount_bits, preallocation, backing_file
  clusterscope info [--output=json|human] [--backing-chain] [-f FMT] FILE
      Equals 'qemu-img info [--output=json] [--backing-chain] FILE' (as qemu-img, the chain
      only with --backing-chain); "actual-size" is the file's allocated size on this host.
  clusterscope check [--output=json|human] FILE
      The fields of 'qemu-img check --output=json FILE', and its exit status.

  clusterscope diff --a=INTERP[@VIEW] [--b=[INTERP][@VIEW]] [--compare=meaning|values]
                    [--output=text|json|csv] [--no-reasons] FILE [FILE2]
      Where two interpretations disagree: differing extents, bytes per kind of
      disagreement ("A zero / B hole,zero") and the reason in words for each.
      --compare=meaning (default) compares the facts both sides state (present, zero,
      data, depth, the NBD HOLE bit, ...): qemu-img map and nbdinfo agree where QEMU's
      answers agree; it also says which facts only one side tells and where one side
      prints one value for ranges the other tells apart. --compare=values compares the
      raw values, as a text diff of the two tools' outputs would.
      With FILE2, A reads FILE and B reads FILE2 (compared where both sizes reach;
      the longer one's tail is its own kind). Without --b, B is A; --b=@VIEW keeps
      A's interpretation. Exit status 0 whether or not they differ.
      INTERP: qemu-img-map-6.0 (1.7-6.0), qemu-img-map-7.2 (6.1-8.1), qemu-img-map-8.2,
              nbd-base-allocation-6.0, nbd-base-allocation-5.2, nbd-allocation-depth,
              nbd-base-allocation-proposed-2021-06 (proposed, not merged),
              nbd-joint-allocation-proposed-2021-06 (proposed, never merged),
              nbd-dirty-bitmap-NAME (a persistent bitmap, as qemu-nbd -B NAME finds it),
              written-in-top (allocation-depth 1, to set against a bitmap),
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

Host holes: qemu-img also asks the host file system where a file has holes. On a raw layer
a hole is "zero": true, "data": false; under a qcow2 data cluster, only when qcow2's
metadata-preallocation heuristic fires, "zero": true, "data": true. File contents cannot show
holes, so clusterscope answers as QEMU does on a dense copy. --zero-scan reads the data and
applies both rules to every all-zero 4 KiB block, which matches QEMU on a sparse file whose
holes are exactly its zero blocks.

Bad input ends with exit status 1 and one line naming the file, the structure and the offset.
`;
