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
 * Ranges a bitmap's dirty map or a diff may hold: a count, for those arrays (block status is
 * bounded in bytes, by MAX_STATUS_BYTES). 32 Mi ranges of a diff are ~1 GiB.
 */
export const MAX_EXTENTS = 32 * 1024 * 1024;

/**
 * Bytes one extent costs in an ExtentBuilder: start, length and host offset (Float64), kind and
 * flags (Uint8), layer (Uint16).
 */
export const EXTENT_BYTES = 28;

/**
 * Bytes of block-status arrays one whole-image computation may hold at once (every layer's
 * extents, the resolved chain, the arrays being grown and their trimmed copies), charged to
 * one MemoryBudget (budget.ts). 1 GiB: the most a browser tab holds beside the page, and what
 * MAX_EXTENTS promised before it counted one array at a time (four arrays of 32 Mi extents
 * took 4 GiB). An image past it is refused with a LimitError naming this constant; the CLI's
 * map and nbd-map stream instead and never hold a whole status.
 */
export const MAX_STATUS_BYTES = 1024 * 1024 * 1024;

/**
 * Bytes an error kept for a (sub)cluster QEMU refuses to read is charged, to the same budget:
 * the closure that makes it when the walk reaches it (layerStatus.ts ErrorList, ~100 bytes),
 * and room for the error once made (its where, its sentence). A hostile image can have one per
 * entry: 450 k once took 6.4 s to make eagerly.
 */
export const ERROR_BYTES = 512;

/**
 * Bytes of extents the streaming walk (status/stream.ts) holds per window, over all layers:
 * each layer scans at most its share of this before the window is resolved and written.
 * QEMU's qemu-img map streams a 12 M-extent map in ~8 MiB; 4 MiB keeps the walk in that range
 * and each window large enough (150 k extents for one layer) that its fixed costs vanish.
 */
export const STREAM_WINDOW_BYTES = 4 * 1024 * 1024;

/**
 * Fewest extents a layer's share of a window holds, whatever the chain's depth: each window
 * must advance, and a held-back last extent leaves at least one.
 */
export const STREAM_MIN_LAYER_EXTENTS = 64;

/**
 * Bytes of L2 tables the streaming walk keeps between windows (least recently used dropped
 * first): four of the largest tables (2 MiB clusters), so a table split across windows is read
 * once, not once per window.
 */
export const STREAM_TABLE_CACHE_BYTES = 8 * 1024 * 1024;

/**
 * Text the CLI buffers before one write(2): large enough that the system call costs nothing
 * per line, small enough to be nothing beside the walk's windows.
 */
export const OUTPUT_CHUNK_BYTES = 64 * 1024;

/**
 * nbdinfo prints nothing when a block-status request fails (it prints the map at the end);
 * nbd-map holds back this much text so that a failure within it prints nothing either, and
 * streams beyond it (the failure then ends a partial map, with exit status 1).
 */
export const NBDINFO_HOLD_BYTES = 4 * 1024 * 1024;

/**
 * Findings (warnings) one status computation keeps; past this they are counted, not kept. A
 * hostile image can have one per L2 table (4 Mi tables).
 */
export const MAX_FINDINGS = 1000;

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
