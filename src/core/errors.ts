/**
 * Every failure the engine reports is one of five typed errors, each naming the file, the
 * structure it was reading and the byte offset of that structure (ARCHITECTURE.md).
 * The message reads as one line: `top.qcow2: L2 table (L1[3]) at 0x50000: lies past end of file`.
 */
import { escapeControls, hex } from './format.ts';

export type ErrorKind = 'format' | 'unsupported' | 'corrupt' | 'io' | 'limit';

export interface ErrorWhere {
  /** The file's name as the user gave it (never a path the user did not type). */
  readonly file: string;
  /** The on-disk structure, in the spec's words: "header", "L1 table", "L2 entry (L1[2], L2[7])". */
  readonly structure: string;
  /** Byte offset of the structure in `file`, when there is one. */
  readonly offset?: number | undefined;
}

export abstract class ClusterscopeError extends Error implements ErrorWhere {
  abstract readonly kind: ErrorKind;
  readonly file: string;
  readonly structure: string;
  readonly offset: number | undefined;
  readonly detail: string;

  /**
   * The message is one line whatever the image says: control characters in names read from it
   * (a backing file called "a\nb\x1b]0;...") are escaped as QEMU's JSON escapes them.
   */
  constructor(where: ErrorWhere, detail: string) {
    const at = where.offset === undefined ? '' : ` at ${hex(where.offset)}`;
    super(escapeControls(`${where.file}: ${where.structure}${at}: ${detail}`));
    this.file = where.file;
    this.structure = where.structure;
    this.offset = where.offset;
    this.detail = detail;
  }
}

/** Not a qcow2 image (or not the format the caller asked for): bad magic, unknown version. */
export class FormatError extends ClusterscopeError {
  readonly kind = 'format' as const;
  override readonly name = 'FormatError';
}

/** A valid image using something QEMU itself refuses or clusterscope cannot read. */
export class UnsupportedError extends ClusterscopeError {
  readonly kind = 'unsupported' as const;
  override readonly name = 'UnsupportedError';
}

/** Metadata that contradicts itself or the spec in a way QEMU treats as corruption (EIO). */
export class CorruptError extends ClusterscopeError {
  readonly kind = 'corrupt' as const;
  override readonly name = 'CorruptError';
}

/** The byte source failed: file unreadable, short read of a required structure, missing file. */
export class IoError extends ClusterscopeError {
  readonly kind = 'io' as const;
  override readonly name = 'IoError';
}

/**
 * A named limit (see limits.ts) was exceeded. Where the limit mirrors one of QEMU's, the detail
 * is QEMU's sentence and `limit` names the constant, which the message adds in parentheses:
 * `top.qcow2: header l1_size at 0x24: Active L1 table too large (MAX_L1_ENTRIES)`.
 */
export class LimitError extends ClusterscopeError {
  readonly kind = 'limit' as const;
  override readonly name = 'LimitError';
  constructor(
    where: ErrorWhere,
    detail: string,
    /** The constant in limits.ts, e.g. 'MAX_L1_ENTRIES'. */
    readonly limit?: string,
  ) {
    super(where, detail);
    if (limit !== undefined) this.message = `${this.message} (${limit})`;
  }
}

export const isClusterscopeError = (e: unknown): e is ClusterscopeError => e instanceof ClusterscopeError;
