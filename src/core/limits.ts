/**
 * Every limit the engine imposes, with the reason for its value. Exceeding one raises a
 * LimitError that names the constant. Limits that mirror QEMU's own refusals say so.
 */

/** Largest byte offset or size the engine represents exactly (JS numbers are exact below 2^53). */
export const MAX_SAFE_OFFSET = Number.MAX_SAFE_INTEGER;

/** QEMU: "Active L1 table too large" above 32 MiB of entries (QCOW_MAX_L1_SIZE / 8). */
export const MAX_L1_ENTRIES = (32 * 1024 * 1024) / 8;

/** QEMU: "Reference count table too large" above 8 MiB (QCOW_MAX_REFTABLE_SIZE). */
export const MAX_REFTABLE_BYTES = 8 * 1024 * 1024;

/** QEMU: nb_snapshots is capped at 65536 (QCOW_MAX_SNAPSHOTS). */
export const MAX_SNAPSHOTS = 65536;

/** QEMU: the whole snapshot table may not exceed 64 MiB (QCOW_MAX_SNAPSHOTS_SIZE). */
export const MAX_SNAPSHOT_TABLE_BYTES = 64 * 1024 * 1024;

/** QEMU refuses snapshot extra data above 1024 bytes (QCOW_MAX_SNAPSHOT_EXTRA_DATA). */
export const MAX_SNAPSHOT_EXTRA_DATA = 1024;

/** QEMU: at most 65535 persistent bitmaps (QCOW2_MAX_BITMAPS). */
export const MAX_BITMAPS = 65535;

/** QEMU: bitmap directory at most 1024 * 65535 bytes (QCOW2_MAX_BITMAP_DIRECTORY_SIZE). */
export const MAX_BITMAP_DIRECTORY_BYTES = 1024 * MAX_BITMAPS;

/**
 * Header extensions live inside the first cluster (at most 2 MiB), each at least 8 bytes, so
 * 2 MiB / 8 bounds them; QEMU has no count limit but the same area bound.
 */
export const MAX_HEADER_EXTENSIONS = (2 * 1024 * 1024) / 8;

/**
 * Backing chain depth. QEMU has no hard limit but each layer costs an open file and a
 * status walk; 256 is far above any real chain (oVirt keeps chains under ~100) and keeps a
 * hostile chain from exhausting memory.
 */
export const MAX_CHAIN_DEPTH = 256;

/**
 * Extents one status computation may produce. Each extent costs 34 bytes in the typed arrays,
 * so 32 Mi extents is ~1.1 GiB: the most a browser tab can hold beside the page. A 1 TiB image
 * fully fragmented at 64 KiB clusters has 16 Mi extents and fits.
 */
export const MAX_EXTENTS = 32 * 1024 * 1024;

/**
 * Largest single read the engine issues. Reading a File through Blob.slice is fastest at
 * ~8 MiB slices (ARCHITECTURE.md); larger slices only add memory.
 */
export const MAX_READ_BYTES = 8 * 1024 * 1024;

/**
 * Neighbouring L2 tables closer than this are read in one request even if the gap holds other
 * data: a gap of up to 1 MiB costs less than a second request.
 */
export const READ_COALESCE_GAP = 1024 * 1024;

/** Bytes of metadata (L2 tables) read per status computation: 4 GiB, enough for 2 EiB at 64 KiB. */
export const MAX_METADATA_BYTES = 4 * 1024 * 1024 * 1024;

/** QEMU: backing file names longer than 1023 bytes are refused ("Backing file name too long"). */
export const MAX_BACKING_NAME_BYTES = 1023;

/** QEMU refuses a backing format name of 16 bytes or more (the extension is read into char[16]). */
export const MAX_BACKING_FORMAT_BYTES = 15;

/**
 * Host clusters one check counts (the file's size in clusters). The check keeps two refcount
 * arrays of up to 4 bytes per cluster (references counted, refcounts on disk); 2^27 clusters
 * (an 8 TiB file at 64 KiB clusters) cost at most 1 GiB, the most a browser tab can spare.
 * QEMU's own bound is INT_MAX clusters ("Check failed: File too large").
 */
export const MAX_CHECK_CLUSTERS = 2 ** 27;

/**
 * Largest zstd window, in clusters, a compressed cluster's frame may ask for. QEMU decodes a
 * compressed cluster into a buffer of one cluster (qcow2_zstd_decompress()), so no frame it wrote
 * needs more history; fzstd allocates whatever window a frame header asks for (a 70-byte frame
 * asked for 1.9 GiB).
 */
export const MAX_ZSTD_WINDOW_CLUSTERS = 1;
