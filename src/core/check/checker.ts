/**
 * The state one `qemu-img check` run shares between its parts (QEMU's BdrvCheckResult plus
 * the in-memory refcount table): counts, the lines QEMU prints on stderr, the corruption
 * signal, and qcow2_inc_refcounts_imrt().
 */
import type { ErrorWhere } from '../errors.ts';
import type { Qcow2Image } from '../qcow2/image.ts';
import { type EntryFormat, entryFormat } from '../qcow2/l2entry.ts';
import { refcountMax } from '../qcow2/refcount.ts';
import { RefcountArray } from '../qcow2/refcountArray.ts';
import { MAX_CHECK_MESSAGES } from './result.ts';

/** CHECK_FRAG_INFO: count allocated/fragmented/compressed clusters (active L1 only). */
export const CHECK_FRAG_INFO = 2;

/** strerror() texts of the errno values a failing check returns. */
export const EINVAL = 'Invalid argument';
export const EIO = 'Input/output error';
export const EFBIG = 'File too large';

/** QEMU's int limits that bound a check (nb_clusters must fit an int). */
export const INT_MAX = 0x7fffffff;

/**
 * Thrown inside the check to end it the way a negative return ends QEMU's, with the strerror()
 * text qemu-img prints after "Check failed: ", and the structure that made it fail.
 */
export class CheckAbort {
  constructor(
    readonly strerror: string,
    readonly where?: ErrorWhere,
  ) {}
}

export class Checker {
  checkErrors = 0;
  corruptions = 0;
  leaks = 0;
  allocated = 0;
  fragmented = 0;
  compressed = 0;
  readonly messages: string[] = [];
  /** Indices of `messages` QEMU prints through error_report(), after the program's name. */
  readonly reported: number[] = [];
  messagesDropped = 0;
  private signaledCorruption = false;

  readonly cs: number;
  readonly cb: number;
  readonly fileLen: number;
  readonly hasDataFile: boolean;
  readonly extL2: boolean;
  readonly fmt: EntryFormat;
  /** The in-memory refcount table (QEMU's refcount_table of calculate_refcounts()). */
  readonly imrt: RefcountArray;

  constructor(readonly img: Qcow2Image) {
    const h = img.header;
    this.cs = h.clusterSize;
    this.cb = h.clusterBits;
    this.fileLen = img.source.size;
    this.fmt = entryFormat(h);
    this.hasDataFile = this.fmt.dataFile;
    this.extL2 = h.extendedL2;
    this.imrt = new RefcountArray(h.refcountOrder, Math.ceil(this.fileLen / this.cs), refcountMax(h));
  }

  /** One line QEMU prints with fprintf(stderr). */
  say(line: string): void {
    if (this.messages.length < MAX_CHECK_MESSAGES) this.messages.push(line);
    else this.messagesDropped++;
  }

  /** One line QEMU prints with error_report(): the program's name goes before it. */
  report(line: string): void {
    if (this.messages.length < MAX_CHECK_MESSAGES) this.reported.push(this.messages.length);
    this.say(line);
  }

  /** qcow2_signal_corruption() on a read-only image: printed once, then suppressed. */
  signalCorruption(message: string): void {
    if (this.signaledCorruption) return;
    this.signaledCorruption = true;
    this.say(`qcow2: Image is corrupt: ${message}; further non-fatal corruption events will be suppressed`);
  }

  /**
   * qcow2_inc_refcounts_imrt(). `offset` may be undefined for an offset at or above 2^53, which
   * always lies a cluster or more past the end of the file; `offsetHex` prints it (formatted only
   * for the message: this runs per L2 entry, so no BigInt and no string on the hot path).
   */
  inc(offset: number | undefined, size: number, offsetHex?: () => string): void {
    if (size <= 0) return;
    // "Last cluster of qcow2 image may be semi-allocated, so it may be OK to reference some
    // space after file end but it should be less than one cluster."
    if (offset === undefined || offset + size - this.fileLen >= this.cs) {
      const at = offsetHex ? offsetHex() : (offset ?? 0).toString(16);
      this.say(
        `ERROR: counting reference for region exceeding the end of the file by one cluster or more: offset 0x${at} size 0x${size.toString(16)}`,
      );
      this.corruptions++;
      return;
    }
    const first = Math.floor(offset / this.cs);
    const last = Math.floor((offset + size - 1) / this.cs);
    for (let k = first; k <= last; k++) this.incCluster(k);
  }

  /** One reference to host cluster k, growing the table as realloc_refcount_array() does. */
  incCluster(k: number): void {
    if (k >= this.imrt.size) {
      if (k + 1 > INT_MAX) {
        this.checkErrors++;
        throw new CheckAbort(EFBIG);
      }
      this.imrt.grow(k + 1);
    }
    if (!this.imrt.inc(k)) {
      this.say(`ERROR: overflow cluster offset=0x${(k * this.cs).toString(16)}`);
      this.say(
        'Use qemu-img amend to increase the refcount entry width or qemu-img convert to create a clean copy if the image cannot be opened for writing',
      );
      this.corruptions++;
    }
  }
}
