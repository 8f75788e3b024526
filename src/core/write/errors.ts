/** Errors of the writer: a request outside the image, or an option QEMU refuses. */
import { FormatError, UnsupportedError } from '../errors.ts';
import { hex } from '../format.ts';

/** A request beyond the virtual size; QEMU: "Request exceeds the size of the image" or EINVAL. */
export class OutOfRangeError extends FormatError {
  constructor(file: string, offset: number, length: number, size: number) {
    super(
      { file, structure: 'guest request', offset },
      `request ${hex(offset)}+${hex(length)} lies outside the image (size ${hex(size)})`,
    );
  }
}

/** An option combination QEMU's qemu-img create refuses, with QEMU's wording. */
export const refuse = (file: string, what: string): UnsupportedError =>
  new UnsupportedError({ file, structure: 'create options' }, what);
