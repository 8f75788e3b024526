/**
 * Limits of the in-memory writer (the lessons and the sandbox build small images in the page).
 * Exceeding one raises a LimitError naming the constant.
 */

/**
 * Largest in-memory image file: 1 GiB. A browser tab holds a few such buffers beside the page;
 * sandbox images are a few MiB. Virtual sizes may be far larger (the file stays sparse in
 * metadata terms: only written clusters take memory).
 */
export const MAX_MEMORY_FILE_BYTES = 1024 * 1024 * 1024;

/** Largest virtual size the writer creates: 2^53 - 1 bytes are exact in JS, QEMU allows up to 2^63. */
export const MAX_WRITER_VIRTUAL_SIZE = 2 ** 52;
