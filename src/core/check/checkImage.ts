/**
 * `qemu-img check` for qcow2, as QEMU 7.2 does it without repair: qcow2_co_check_locked()
 * reads the snapshot table (snapshotTable.ts), then qcow2_check_refcounts() runs
 * calculate_refcounts() (calculateRefcounts.ts), compare_refcounts() (compareRefcounts.ts) and
 * check_oflag_copied() (oflagCopied.ts), all in block/qcow2-refcount.c and qcow2-snapshot.c.
 *
 * Counts, message texts and their order follow QEMU's. Unlike QEMU, each L2 table of the
 * active L1 is read once: the on-disk refcounts are read first (every refcount block, once,
 * into a typed array), so the copied-flag check runs on the tables calculate_refcounts() has
 * just read, and its lines are printed afterwards where QEMU prints them.
 */
import type { Cancellation } from '../cancel.ts';
import { isClusterscopeError, LimitError } from '../errors.ts';
import { MAX_CHECK_CLUSTERS } from '../limits.ts';
import type { Qcow2Image } from '../qcow2/image.ts';
import { readRefcountTable } from '../qcow2/refcount.ts';
import { calculateRefcounts } from './calculateRefcounts.ts';
import { CheckAbort, Checker, EFBIG, EINVAL, EIO, INT_MAX } from './checker.ts';
import { compareRefcounts } from './compareRefcounts.ts';
import { DiskRefcounts } from './diskRefcounts.ts';
import { OflagCopied } from './oflagCopied.ts';
import type { CheckResult } from './result.ts';
import { checkSnapshotTable } from './snapshotTable.ts';

export interface CheckOptions {
  /** The name qemu-img would print as "filename"; defaults to the image's name. */
  readonly filename?: string;
  /** Ends the check with CancelledError between tables. */
  readonly signal?: Cancellation;
  /** Bytes of L2 tables read so far, after each one (the check's progress). */
  readonly onProgress?: (bytes: number) => void;
}

/**
 * Checks a qcow2 image like `qemu-img check` (no repair). Never throws for what QEMU reports as
 * findings; a check QEMU would abort comes back with `failure` set.
 */
export async function checkImage(img: Qcow2Image, opts: CheckOptions = {}): Promise<CheckResult> {
  const c = new Checker(img);
  let failure: string | undefined;
  let failureWhere: CheckResult['failureWhere'];
  let highest = 0;
  try {
    // qcow2_co_check_locked(): the snapshot table first; its failures end the check.
    const snapshots = await checkSnapshotTable(c);

    // qcow2_check_refcounts()
    if (c.imrt.size > INT_MAX) {
      c.checkErrors++;
      throw new CheckAbort(EFBIG, { file: img.name, structure: 'image file', offset: img.source.size });
    }
    if (c.imrt.size > MAX_CHECK_CLUSTERS) {
      throw new LimitError(
        { file: img.name, structure: 'image file' },
        `${c.imrt.size} clusters to check, more than MAX_CHECK_CLUSTERS (${MAX_CHECK_CLUSTERS})`,
      );
    }
    const reftable = await readRefcountTable(img);
    // One more than the file's clusters: the in-memory table grows by at most the one
    // semi-allocated cluster past the end (qcow2_inc_refcounts_imrt()).
    const disk = await DiskRefcounts.read(img, reftable, c.imrt.size + 1, opts.signal);
    const oflag = new OflagCopied(c, disk);
    let tables = 0;
    const onTable = opts.onProgress && (() => opts.onProgress?.(++tables * c.cs));
    await calculateRefcounts(c, snapshots, reftable, oflag, opts.signal, onTable);
    highest = compareRefcounts(c, disk);
    oflag.flush();
  } catch (e) {
    if (e instanceof CheckAbort) {
      failure = e.strerror;
      failureWhere = e.where;
    } else if (isClusterscopeError(e) && (e.kind === 'io' || e.kind === 'corrupt')) {
      c.checkErrors++;
      c.say(`ERROR: ${e.message}`);
      failure = e.kind === 'io' ? EIO : EINVAL;
      failureWhere = e;
    } else throw e;
  }

  return {
    filename: opts.filename ?? img.name,
    format: 'qcow2',
    checkErrors: c.checkErrors,
    corruptions: c.corruptions,
    leaks: c.leaks,
    corruptionsFixed: 0,
    leaksFixed: 0,
    imageEndOffset: failure === undefined ? (highest + 1) * c.cs : 0,
    totalClusters: Math.ceil(img.length / c.cs),
    allocatedClusters: c.allocated,
    fragmentedClusters: c.fragmented,
    compressedClusters: c.compressed,
    messages: c.messages,
    reported: c.reported,
    messagesDropped: c.messagesDropped,
    ...(failure !== undefined && { failure }),
    ...(failureWhere !== undefined && {
      failureWhere: {
        file: failureWhere.file,
        structure: failureWhere.structure,
        ...(failureWhere.offset !== undefined && { offset: failureWhere.offset }),
      },
    }),
  };
}
