/**
 * Things QEMU tolerates but a user should know: an L2 table past EOF (read as zeros, so
 * unallocated), a data cluster past EOF, reserved bits set. Errors stop a computation;
 * findings travel beside its result.
 */
import { escapeControls, hex } from './format.ts';

export interface Finding {
  readonly file: string;
  readonly structure: string;
  readonly offset?: number;
  readonly message: string;
}

/** One line (control characters from the image escaped, see escapeControls()). */
export const formatFinding = (f: Finding): string =>
  escapeControls(
    `${f.file}: ${f.structure}${f.offset === undefined ? '' : ` at ${hex(f.offset)}`}: ${f.message}`,
  );
