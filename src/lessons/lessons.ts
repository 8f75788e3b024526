/**
 * The lessons: small chains built in the worker by core's writer (or a bundled QEMU-made sample
 * where the writer cannot go), and questions about what a tool prints for one cluster. A lesson
 * is a mode of the page (lesson.ts): the step's cluster is selected on the map, the answers are
 * hidden until the reader answers or asks, then shown with QEMU's words and, where the answer
 * changed between releases, the release that changed it. The texts stand on their own.
 * lessons.test.ts holds every expected answer to the engine and every built image to
 * `qemu-img check`; the page grades against the engine's answer, never this file alone.
 */
import type { SandboxOp } from '../protocol/results.ts';

/**
 * Which answer a step asks for: an interpretation of the hit (a persistent bitmap's too, by its
 * interpretation id), the deciding L2 entry type, or a refcount.
 */
export type LessonTool =
  | 'qemu-img-map-8.2'
  | 'nbd-base-allocation-6.0'
  | 'nbd-base-allocation-5.2'
  | 'nbd-allocation-depth'
  | 'kind'
  | 'refcount'
  | `nbd-dirty-bitmap-${string}`;

const DIRTY_BITMAP = 'nbd-dirty-bitmap-';

/**
 * A bitmap's interpretation id (core/interpret/ids.ts): the lessons name their bitmaps in
 * lower-case letters, digits and '-', which the id keeps as they are.
 */
const dirtyBitmapId = (name: 'cp1' | 'cp'): LessonTool => `${DIRTY_BITMAP}${name}`;

/** What a step's tool is, in words. */
export function toolTitle(tool: LessonTool): string {
  if (tool.startsWith(DIRTY_BITMAP)) {
    const name = tool.slice(DIRTY_BITMAP.length);
    return `nbdinfo --map=qemu:dirty-bitmap:${name} (qemu-nbd -B ${name})`;
  }
  return TOOL_TITLES[tool as keyof typeof TOOL_TITLES];
}

const TOOL_TITLES = {
  'qemu-img-map-8.2': 'qemu-img map --output=json (QEMU 8.2 and newer)',
  'nbd-base-allocation-6.0': 'nbdinfo --map (base:allocation, qemu-nbd 6.0 and newer)',
  'nbd-base-allocation-5.2': 'nbdinfo --map (base:allocation, qemu-nbd 5.2 and older)',
  'nbd-allocation-depth': 'nbdinfo --map=qemu:allocation-depth',
  kind: "the L2 entry type of the layer that decides (QEMU's qcow2_get_subcluster_type)",
  refcount: "the refcount of the top layer's host cluster (qemu-img check counts these)",
} as const;

export interface LessonStep {
  /** Chain top to open for this step (images of the lesson's build). */
  readonly top: string;
  /** The view of it the step asks about: '' the chain, 'snapshot:NAME' an internal snapshot's L1. */
  readonly view?: string;
  readonly offset: number;
  readonly tool: LessonTool;
  readonly question: string;
  readonly choices: readonly string[];
  /** The expected answer (one of `choices`); lessons.test.ts holds it to the engine. */
  readonly answer: string;
  /** Why, in words, shown with the engine's own explanation. */
  readonly note: string;
  /** The release that changed this answer, when one did. */
  readonly since?: string;
}

export interface Lesson {
  readonly id: string;
  readonly title: string;
  readonly intro: string;
  /** Sandbox operations that build the lesson's images, or a bundled QEMU-made sample. */
  readonly build:
    | { readonly ops: readonly SandboxOp[] }
    | { readonly sample: string; readonly files: readonly string[] };
  readonly steps: readonly LessonStep[];
}

const K = 1024;
const C = 64 * K;
const MAP_CHOICES = [
  'depth 0, present, data',
  'depth 0, present, zero',
  'depth 1, present, data',
  'depth 0, absent, zero',
];
const NBD_CHOICES = ['data', 'hole', 'zero', 'hole,zero'];
const DEPTH_CHOICES = ['absent', 'local', 'backing depth 2', 'backing depth 3'];
const KIND_CHOICES = ['ZERO_PLAIN', 'ZERO_ALLOC', 'NORMAL', 'UNALLOCATED_PLAIN'];

const HOLE_SINCE =
  'qemu-nbd 6.0 (commit 0da9856851, 2021) changed NBD_STATE_HOLE from "no layer allocates it" to "no data is stored for it".';
const PRESENT_SINCE =
  'qemu-img map 6.1 added "present" (before it, an unallocated range and a zero cluster printed the same).';
const DEPTH_SINCE = 'qemu-nbd 5.2 added the qemu:allocation-depth context (qemu-nbd -A).';
const DIRTY_CHOICES = ['clean', 'dirty'];
const BITMAP_SINCE =
  'qemu-nbd 5.0 added -B (export a persistent bitmap as qemu:dirty-bitmap:NAME); qemu-img 5.1 added qemu-img bitmap.';

/** The June 2021 thread's example: raw base of 0xbb; top: c0 untouched, c1 written, c2 write -z, c3 written then discarded. */
const nbdHoleOps: SandboxOp[] = [
  { op: 'reset' },
  { op: 'create', name: 'base.raw', format: 'raw', size: 4 * C },
  { op: 'write', image: 'base.raw', offset: 0, length: 4 * C, pattern: 0xbb },
  { op: 'create', name: 'top.qcow2', format: 'qcow2', backing: 'base.raw' },
  { op: 'write', image: 'top.qcow2', offset: C, length: C, pattern: 0x11 },
  { op: 'zero', image: 'top.qcow2', offset: 2 * C, length: C },
  { op: 'write', image: 'top.qcow2', offset: 3 * C, length: C, pattern: 0x33 },
  { op: 'discard', image: 'top.qcow2', offset: 3 * C, length: C },
];

export const LESSONS: readonly Lesson[] = [
  {
    id: 'backing-chain',
    title: 'A backing chain and allocation depth',
    intro:
      'Three qcow2 files, base <- mid <- top. base writes clusters 0-3, mid writes clusters 1-2, top writes cluster 2. A read asks top first and falls through to the layer below wherever a layer does not allocate the cluster. Which layer answers is what "allocation depth" names.',
    build: {
      ops: [
        { op: 'reset' },
        { op: 'create', name: 'base.qcow2', format: 'qcow2', size: 8 * C },
        { op: 'write', image: 'base.qcow2', offset: 0, length: 4 * C, pattern: 0xb0 },
        { op: 'create', name: 'mid.qcow2', format: 'qcow2', backing: 'base.qcow2' },
        { op: 'write', image: 'mid.qcow2', offset: C, length: 2 * C, pattern: 0xd1 },
        { op: 'create', name: 'top.qcow2', format: 'qcow2', backing: 'mid.qcow2' },
        { op: 'write', image: 'top.qcow2', offset: 2 * C, length: C, pattern: 0x70 },
      ],
    },
    steps: [
      {
        top: 'top.qcow2',
        offset: 0,
        tool: 'nbd-allocation-depth',
        question:
          'Cluster 0 was written only in base, the third file of the chain. What does qemu:allocation-depth say?',
        choices: DEPTH_CHOICES,
        answer: 'backing depth 3',
        note: 'allocation-depth counts from 1 at the top: top is 1 ("local"), mid 2, base 3.',
        since: DEPTH_SINCE,
      },
      {
        top: 'top.qcow2',
        offset: C,
        tool: 'nbd-allocation-depth',
        question: 'Cluster 1 was written in base and again in mid. Which depth answers?',
        choices: DEPTH_CHOICES,
        answer: 'backing depth 2',
        note: 'The first layer from the top that allocates the cluster answers; base is never asked.',
      },
      {
        top: 'top.qcow2',
        offset: C,
        tool: 'qemu-img-map-8.2',
        question: 'And qemu-img map for cluster 1?',
        choices: [
          'depth 0, present, data',
          'depth 1, present, data',
          'depth 2, present, data',
          'depth 1, absent, zero',
        ],
        answer: 'depth 1, present, data',
        note: 'qemu-img map counts depth from 0 at the top, allocation-depth from 1: the same layer is depth 1 in one and 2 in the other.',
      },
      {
        top: 'top.qcow2',
        offset: 5 * C,
        tool: 'qemu-img-map-8.2',
        question: 'Cluster 5 was written in no layer. What does qemu-img map print?',
        choices: [
          'depth 0, absent, zero',
          'depth 2, absent, zero',
          'depth 2, present, zero',
          'depth 0, present, zero',
        ],
        answer: 'depth 2, absent, zero',
        note: 'The walk goes down to base, which has no backing file: it reads zeroes there, but no layer owns the range, so "present" is false and the depth is the last layer asked.',
        since: PRESENT_SINCE,
      },
    ],
  },
  {
    id: 'nbd-hole',
    title: 'Unallocated, zero or hole: NBD 5.2 vs 6.0',
    intro:
      'A raw base full of 0xbb under a qcow2 overlay: cluster 0 untouched, cluster 1 written, cluster 2 written as zeroes (write -z) and cluster 3 written then discarded. This is the example of the June 2021 qemu-devel thread: qemu-nbd 6.0 changed what the NBD hole bit means, and oVirt noticed.',
    build: { ops: nbdHoleOps },
    steps: [
      {
        top: 'top.qcow2',
        offset: 2 * C,
        tool: 'nbd-base-allocation-6.0',
        question:
          'Cluster 2 was written with write -z (a zero cluster in the top). What does nbdinfo --map print for it against qemu-nbd 6.0 or newer?',
        choices: NBD_CHOICES,
        answer: 'hole,zero',
        note: 'Since 6.0, HOLE means "not DATA". A zero cluster has no data, so it is a hole, even though the top layer owns it.',
        since: HOLE_SINCE,
      },
      {
        top: 'top.qcow2',
        offset: 2 * C,
        tool: 'nbd-base-allocation-5.2',
        question: 'The same cluster against qemu-nbd 5.2?',
        choices: NBD_CHOICES,
        answer: 'zero',
        note: 'Up to 5.2, HOLE meant "not allocated". The zero cluster is allocated in the top, so only ZERO was set. oVirt used that difference to tell "zeroed here" from "not here"; 6.0 took it away.',
        since: HOLE_SINCE,
      },
      {
        top: 'top.qcow2',
        offset: 3 * C,
        tool: 'nbd-allocation-depth',
        question:
          'Cluster 3 was discarded in an image with a backing file. Does the top still own it? What does qemu:allocation-depth say?',
        choices: DEPTH_CHOICES,
        answer: 'local',
        note: 'Discard with a backing file writes a zero cluster (v3), so the top owns the range: it must read zeroes, not the 0xbb below. To ask "does this layer own it?", use qemu:allocation-depth, not base:allocation.',
        since: DEPTH_SINCE,
      },
      {
        top: 'top.qcow2',
        offset: 0,
        tool: 'nbd-allocation-depth',
        question: 'Cluster 0 was never touched in the top. What does qemu:allocation-depth say?',
        choices: DEPTH_CHOICES,
        answer: 'backing depth 2',
        note: 'The top does not allocate it; the raw base (the second file) does.',
      },
      {
        top: 'top.qcow2',
        offset: 0,
        tool: 'qemu-img-map-8.2',
        question: 'And qemu-img map for cluster 0?',
        choices: MAP_CHOICES,
        answer: 'depth 1, present, data',
        note: 'qemu-img map counts depth from 0 (the top), NBD allocation-depth from 1: the same layer is depth 1 in one and 2 in the other.',
      },
    ],
  },
  {
    id: 'zero-clusters',
    title: 'Zero clusters: ZERO_PLAIN vs ZERO_ALLOC',
    intro:
      'A qcow2 image (v3, no backing file): clusters 0 and 1 written; then write -z on cluster 0 with unmap (-u), on cluster 1 without, and on the never-written cluster 2. A zero cluster either keeps its host cluster (ZERO_ALLOC) or frees it (ZERO_PLAIN).',
    build: {
      ops: [
        { op: 'reset' },
        { op: 'create', name: 'zero.qcow2', format: 'qcow2', size: 4 * C },
        { op: 'write', image: 'zero.qcow2', offset: 0, length: 2 * C, pattern: 0xaa },
        { op: 'zero', image: 'zero.qcow2', offset: 0, length: C, unmap: true },
        { op: 'zero', image: 'zero.qcow2', offset: C, length: C },
        { op: 'zero', image: 'zero.qcow2', offset: 2 * C, length: C },
      ],
    },
    steps: [
      {
        top: 'zero.qcow2',
        offset: C,
        tool: 'kind',
        question:
          'Cluster 1 was allocated, then written with write -z without -u. What L2 entry does it get?',
        choices: KIND_CHOICES,
        answer: 'ZERO_ALLOC',
        note: 'Without unmap QEMU keeps the host cluster: the entry keeps its host offset and gets the zero flag.',
      },
      {
        top: 'zero.qcow2',
        offset: 0,
        tool: 'kind',
        question: 'Cluster 0 got write -z -u. Which entry now?',
        choices: KIND_CHOICES,
        answer: 'ZERO_PLAIN',
        note: 'With unmap the host cluster is freed: the entry is just the zero flag (0x1), no offset.',
      },
      {
        top: 'zero.qcow2',
        offset: C,
        tool: 'nbd-base-allocation-6.0',
        question: 'Cluster 1 (ZERO_ALLOC) still has storage reserved. What does qemu-nbd 6.0+ report?',
        choices: NBD_CHOICES,
        answer: 'hole,zero',
        note: 'NBD reports ZERO_PLAIN and ZERO_ALLOC alike as 3 (hole,zero) in 6.0+: reserved storage is not data.',
        since: HOLE_SINCE,
      },
      {
        top: 'zero.qcow2',
        offset: C,
        tool: 'qemu-img-map-8.2',
        question: 'And qemu-img map for cluster 1?',
        choices: MAP_CHOICES,
        answer: 'depth 0, present, zero',
        note: 'present, zero, not data; the JSON also carries the kept host "offset" (a ZERO_ALLOC cluster has one).',
      },
    ],
  },
  {
    id: 'discard-v2-v3',
    title: 'Discard on v2 vs v3',
    intro:
      'Two overlays on the same raw base (0xbb): v2.qcow2 (compat=0.10, no zero flag) and v3.qcow2 (compat=1.1). Both write clusters 0-1, then discard cluster 1.',
    build: {
      ops: [
        { op: 'reset' },
        { op: 'create', name: 'base.raw', format: 'raw', size: 4 * C },
        { op: 'write', image: 'base.raw', offset: 0, length: 4 * C, pattern: 0xbb },
        { op: 'create', name: 'v2.qcow2', format: 'qcow2', version: 2, backing: 'base.raw' },
        { op: 'write', image: 'v2.qcow2', offset: 0, length: 2 * C, pattern: 0x22 },
        { op: 'discard', image: 'v2.qcow2', offset: C, length: C },
        { op: 'create', name: 'v3.qcow2', format: 'qcow2', backing: 'base.raw' },
        { op: 'write', image: 'v3.qcow2', offset: 0, length: 2 * C, pattern: 0x33 },
        { op: 'discard', image: 'v3.qcow2', offset: C, length: C },
      ],
    },
    steps: [
      {
        top: 'v2.qcow2',
        offset: C,
        tool: 'qemu-img-map-8.2',
        question: 'v2 has no zero flag. After the discard, what does qemu-img map say for cluster 1?',
        choices: MAP_CHOICES,
        answer: 'depth 0, present, data',
        note: "On v2 with a backing file QEMU does not discard (it answers success and keeps the cluster): unmapping it would expose the backing file's bytes.",
      },
      {
        top: 'v3.qcow2',
        offset: C,
        tool: 'qemu-img-map-8.2',
        question: 'The same discard on v3?',
        choices: MAP_CHOICES,
        answer: 'depth 0, present, zero',
        note: 'v3 frees the host cluster and writes a ZERO_PLAIN entry, so the range reads zeroes and the backing file stays hidden.',
      },
    ],
  },
  {
    id: 'subclusters',
    title: 'Subclusters (extended L2)',
    intro:
      'A qcow2 with extended_l2=on (64 KiB clusters, 32 subclusters of 2 KiB each) over a raw base of 0xbb; a 4 KiB write at offset 0. Each subcluster has its own "allocated" and "zero" bit in the L2 entry.',
    build: {
      ops: [
        { op: 'reset' },
        { op: 'create', name: 'base.raw', format: 'raw', size: 4 * C },
        { op: 'write', image: 'base.raw', offset: 0, length: 4 * C, pattern: 0xbb },
        { op: 'create', name: 'sub.qcow2', format: 'qcow2', extendedL2: true, backing: 'base.raw' },
        { op: 'write', image: 'sub.qcow2', offset: 0, length: 4 * K, pattern: 0x44 },
      ],
    },
    steps: [
      {
        top: 'sub.qcow2',
        offset: 8 * K,
        tool: 'qemu-img-map-8.2',
        question:
          'Offset 8 KiB is in the same cluster as the write, but in subcluster 4. What does qemu-img map say?',
        choices: MAP_CHOICES,
        answer: 'depth 1, present, data',
        note: 'Only subclusters 0-1 were written. The rest of the cluster has a host cluster but no allocation bit (UNALLOCATED_ALLOC), so it reads from the backing file.',
      },
      {
        top: 'sub.qcow2',
        offset: 8 * K,
        tool: 'kind',
        question: 'Which type does the layer that decides have there?',
        choices: ['UNALLOCATED_PLAIN', 'UNALLOCATED_ALLOC', 'NORMAL', 'RAW_DATA'],
        answer: 'RAW_DATA',
        note: "The deciding layer is the raw base (RAW_DATA). The top's own entry for that subcluster is UNALLOCATED_ALLOC: the inspector lists both.",
      },
    ],
  },
  {
    id: 'short-backing',
    title: 'A backing file shorter than the overlay',
    intro: 'A raw base of 128 KiB under a 256 KiB qcow2 overlay that writes only its last cluster.',
    build: {
      ops: [
        { op: 'reset' },
        { op: 'create', name: 'short.raw', format: 'raw', size: 2 * C },
        { op: 'write', image: 'short.raw', offset: 0, length: 2 * C, pattern: 0xbb },
        { op: 'create', name: 'long.qcow2', format: 'qcow2', size: 4 * C, backing: 'short.raw' },
        { op: 'write', image: 'long.qcow2', offset: 3 * C, length: C, pattern: 0x55 },
      ],
    },
    steps: [
      {
        top: 'long.qcow2',
        offset: 2 * C,
        tool: 'qemu-img-map-8.2',
        question:
          'Cluster 2 lies past the end of the backing file and the top does not allocate it. qemu-img map?',
        choices: MAP_CHOICES,
        answer: 'depth 0, absent, zero',
        note: 'Beyond the backing file\'s end the top itself answers ZERO without ALLOCATED: depth 0, "present": false.',
        since: PRESENT_SINCE,
      },
      {
        top: 'long.qcow2',
        offset: 2 * C,
        tool: 'nbd-allocation-depth',
        question: 'And qemu:allocation-depth for the same cluster?',
        choices: DEPTH_CHOICES,
        answer: 'backing depth 2',
        note: 'allocation-depth walks on to the short layer and reports it as the owner of the zeroes past its end: nbdinfo prints "0 196608 2 backing depth 2" for this image.',
      },
    ],
  },
  {
    id: 'compressed',
    title: 'Compressed clusters',
    intro:
      'A QEMU-made image (qemu-img convert -c, zlib), bundled with the page. Clusters 0 and 1 are adjacent compressed clusters; their data has no fixed place in the file.',
    build: { sample: 'compressed-zlib', files: ['top.qcow2'] },
    steps: [
      {
        top: 'top.qcow2',
        offset: 0,
        tool: 'qemu-img-map-8.2',
        question: 'What does qemu-img map (8.2 or newer) print for cluster 0?',
        choices: [
          'depth 0, present, data',
          'depth 0, present, data, compressed',
          'depth 0, present, zero',
          'depth 0, absent, zero',
        ],
        answer: 'depth 0, present, data, compressed',
        note: 'No host offset (a compressed cluster has none that maps one to one), "data": true, and since 8.2 "compressed": true. Adjacent compressed clusters merge into one entry.',
        since: 'qemu-img map 8.2 added "compressed".',
      },
      {
        top: 'top.qcow2',
        offset: 0,
        tool: 'nbd-base-allocation-6.0',
        question: 'And nbdinfo --map?',
        choices: NBD_CHOICES,
        answer: 'data',
        note: 'NBD has no compressed bit: a compressed cluster is data (type 0), even if it compresses all zeroes.',
      },
    ],
  },
  {
    id: 'snapshots',
    title: 'Snapshots and refcounts',
    intro:
      'A qcow2 image: clusters 0 and 1 written, then an internal snapshot s1 (qemu-img snapshot -c), then cluster 0 written again. A snapshot shares every cluster with the image; the refcount of a host cluster counts the tables that point at it, and a write to a shared cluster copies it first.',
    build: {
      ops: [
        { op: 'reset' },
        { op: 'create', name: 'snap.qcow2', format: 'qcow2', size: 4 * C },
        { op: 'write', image: 'snap.qcow2', offset: 0, length: 2 * C, pattern: 0x11 },
        { op: 'snapshot', image: 'snap.qcow2', name: 's1' },
        { op: 'write', image: 'snap.qcow2', offset: 0, length: C, pattern: 0x22 },
      ],
    },
    steps: [
      {
        top: 'snap.qcow2',
        offset: C,
        tool: 'refcount',
        question:
          'Cluster 1 was written before the snapshot and not since. What is the refcount of its host cluster?',
        choices: ['1', '2', '3'],
        answer: '2',
        note: 'The active L2 table and snapshot s1 both point at it: qcow2_snapshot_create() adds one reference to every cluster the image uses.',
      },
      {
        top: 'snap.qcow2',
        offset: 0,
        tool: 'refcount',
        question:
          'Cluster 0 was written again after the snapshot. The refcount of the host cluster it maps to now?',
        choices: ['1', '2', '3'],
        answer: '1',
        note: 'A shared cluster (refcount above 1) is never written in place: the write went to a new host cluster (copy on write), which only the active L1 points at.',
      },
      {
        top: 'snap.qcow2',
        view: 'snapshot:s1',
        offset: 0,
        tool: 'refcount',
        question:
          "Now the map shows snapshot s1's L1 table. The refcount of the host cluster s1 maps cluster 0 to?",
        choices: ['0', '1', '2'],
        answer: '1',
        note: 'The old cluster lost the active reference when it was copied; only s1 keeps it, and deleting s1 would free it.',
      },
    ],
  },
  {
    id: 'incremental-backup',
    title: 'Incremental backup with a bitmap and a checkpoint',
    intro:
      "A 512 KiB disk (64 KiB clusters). Clusters 0-3 are written, then a full backup is taken and, at that moment, a persistent bitmap 'cp1' is added: the checkpoint (qemu-img bitmap --add). After it the guest rewrites cluster 1, zeroes cluster 2 (write -z) and writes 4 KiB at the start of cluster 5. The next incremental backup asks qemu-nbd -B cp1 which ranges are dirty, and base:allocation what lies there.",
    build: {
      ops: [
        { op: 'reset' },
        { op: 'create', name: 'disk.qcow2', format: 'qcow2', size: 8 * C },
        { op: 'write', image: 'disk.qcow2', offset: 0, length: 4 * C, pattern: 0xaa },
        { op: 'bitmap', image: 'disk.qcow2', name: 'cp1', action: 'add' },
        { op: 'write', image: 'disk.qcow2', offset: C, length: C, pattern: 0xbb },
        { op: 'zero', image: 'disk.qcow2', offset: 2 * C, length: C },
        { op: 'write', image: 'disk.qcow2', offset: 5 * C, length: 4 * K, pattern: 0xcc },
      ],
    },
    steps: [
      {
        top: 'disk.qcow2',
        offset: 0,
        tool: dirtyBitmapId('cp1'),
        question:
          'Cluster 0 was written before the checkpoint and not since. What does qemu:dirty-bitmap:cp1 say?',
        choices: DIRTY_CHOICES,
        answer: 'clean',
        note: 'A bitmap records writes from the moment it is added (while it is enabled). The full backup already holds cluster 0, so the incremental one skips it.',
        since: BITMAP_SINCE,
      },
      {
        top: 'disk.qcow2',
        offset: C,
        tool: dirtyBitmapId('cp1'),
        question: 'Cluster 1 was rewritten after the checkpoint?',
        choices: DIRTY_CHOICES,
        answer: 'dirty',
        note: 'Every write sets the bits of the granules it touches; the backup copies this cluster.',
      },
      {
        top: 'disk.qcow2',
        offset: 2 * C,
        tool: 'nbd-base-allocation-6.0',
        question:
          'Cluster 2 was zeroed after the checkpoint, so it is dirty too. The backup tool then asks base:allocation what is there. What does it say?',
        choices: NBD_CHOICES,
        answer: 'hole,zero',
        note: 'A dirty range that reads as zero needs no reading: the tool writes zeroes (or punches a hole) in the backup. Tools that read it anyway back up zeroes thick.',
      },
      {
        top: 'disk.qcow2',
        offset: 5 * C + 8 * K,
        tool: dirtyBitmapId('cp1'),
        question:
          'Only the first 4 KiB of cluster 5 were written. Offset 8 KiB into cluster 5 was not. Is it dirty in cp1 (granularity 64 KiB)?',
        choices: DIRTY_CHOICES,
        answer: 'dirty',
        note: 'One bit covers a whole granule (64 KiB here, the default for 64 KiB clusters): the backup reads all 64 KiB of it, though only 4 KiB changed. A finer granularity (qemu-img bitmap --add -g 4K) costs a bigger bitmap.',
      },
    ],
  },
  {
    id: 'discard-dirty',
    title: 'Why a discard makes a range dirty',
    intro:
      "A 256 KiB image (64 KiB clusters, no backing file) with clusters 0-2 written, then a bitmap 'cp' added. After it the guest discards (TRIMs) cluster 1, and discards 512 bytes inside cluster 2. No data is written.",
    build: {
      ops: [
        { op: 'reset' },
        { op: 'create', name: 'vm.qcow2', format: 'qcow2', size: 4 * C },
        { op: 'write', image: 'vm.qcow2', offset: 0, length: 3 * C, pattern: 0x5a },
        { op: 'bitmap', image: 'vm.qcow2', name: 'cp', action: 'add' },
        { op: 'discard', image: 'vm.qcow2', offset: C, length: C },
        { op: 'discard', image: 'vm.qcow2', offset: 2 * C + 512, length: 512 },
      ],
    },
    steps: [
      {
        top: 'vm.qcow2',
        offset: C,
        tool: dirtyBitmapId('cp'),
        question: 'Cluster 1 was discarded after the bitmap was added. Nothing was written. Dirty or clean?',
        choices: DIRTY_CHOICES,
        answer: 'dirty',
        note: 'The block layer marks a discard dirty like a write (bdrv_co_pdiscard() ends in bdrv_set_dirty()): what the guest reads there changed, from the old data to zeroes, and the last backup still holds the old data.',
      },
      {
        top: 'vm.qcow2',
        offset: C,
        tool: 'nbd-base-allocation-6.0',
        question: 'What does base:allocation say for the discarded cluster?',
        choices: NBD_CHOICES,
        answer: 'hole,zero',
        note: 'qcow2 v3 turns a discarded cluster into a zero cluster: the backup writes zeroes there (or punches a hole) without reading anything.',
      },
      {
        top: 'vm.qcow2',
        offset: 2 * C,
        tool: dirtyBitmapId('cp'),
        question:
          'Inside cluster 2 only 512 bytes were discarded. qcow2 cannot discard part of a cluster and ignores the request. Is cluster 2 dirty?',
        choices: DIRTY_CHOICES,
        answer: 'dirty',
        note: 'The bitmap is set by the block layer, whatever the driver did with the request: a TRIM QEMU ignored still dirties its granule, and the backup copies 64 KiB that did not change. Guests that trim often make incremental backups bigger.',
      },
      {
        top: 'vm.qcow2',
        offset: 2 * C,
        tool: 'qemu-img-map-8.2',
        question: 'And what does qemu-img map say cluster 2 holds now?',
        choices: MAP_CHOICES,
        answer: 'depth 0, present, data',
        note: 'Its data is all still there: dirty does not mean changed, only that a request touched the range.',
      },
    ],
  },
  {
    id: 'allocation-depth-backup',
    title: 'What qemu:allocation-depth adds to a backup',
    intro:
      "A base image of 0xb0 (clusters 0-3) under an overlay made at a checkpoint, with a bitmap 'cp' added to the overlay when it was made. The overlay then rewrites cluster 1 and zeroes cluster 2 (write -z). A backup reading only base:allocation sees data or zero; qemu:allocation-depth says which layer it comes from.",
    build: {
      ops: [
        { op: 'reset' },
        { op: 'create', name: 'base.qcow2', format: 'qcow2', size: 4 * C },
        { op: 'write', image: 'base.qcow2', offset: 0, length: 4 * C, pattern: 0xb0 },
        { op: 'create', name: 'top.qcow2', format: 'qcow2', backing: 'base.qcow2' },
        { op: 'bitmap', image: 'top.qcow2', name: 'cp', action: 'add' },
        { op: 'write', image: 'top.qcow2', offset: C, length: C, pattern: 0x71 },
        { op: 'zero', image: 'top.qcow2', offset: 2 * C, length: C },
      ],
    },
    steps: [
      {
        top: 'top.qcow2',
        offset: 0,
        tool: 'nbd-base-allocation-6.0',
        question:
          "Cluster 0 is the base's data, untouched since the checkpoint. What does base:allocation say?",
        choices: NBD_CHOICES,
        answer: 'data',
        note: 'base:allocation describes what the guest reads through the whole chain: data, wherever it is stored.',
      },
      {
        top: 'top.qcow2',
        offset: C,
        tool: 'nbd-base-allocation-6.0',
        question: 'Cluster 1 was rewritten in the overlay. base:allocation?',
        choices: NBD_CHOICES,
        answer: 'data',
        note: "The same answer as for cluster 0: base:allocation cannot tell the overlay's data from the base's.",
      },
      {
        top: 'top.qcow2',
        offset: 0,
        tool: 'nbd-allocation-depth',
        question: 'What does qemu:allocation-depth say for cluster 0?',
        choices: DEPTH_CHOICES,
        answer: 'backing depth 2',
        note: 'allocation-depth names the layer: 1 ("local") is the overlay, 2 its backing file. A tool copying only the overlay (a delta since the checkpoint) skips everything not local.',
        since: DEPTH_SINCE,
      },
      {
        top: 'top.qcow2',
        offset: 2 * C,
        tool: 'nbd-allocation-depth',
        question:
          'Cluster 2 was zeroed in the overlay: base:allocation says hole,zero, as it would for a range no layer holds. What does allocation-depth say?',
        choices: DEPTH_CHOICES,
        answer: 'local',
        note: 'The overlay holds zeroes that hide the base\'s 0xb0. A delta that skipped this "hole" would bring the base\'s data back on restore; allocation-depth says it must be kept, as zeroes.',
      },
      {
        top: 'top.qcow2',
        offset: 2 * C,
        tool: dirtyBitmapId('cp'),
        question: "And the overlay's bitmap cp, added with it?",
        choices: DIRTY_CHOICES,
        answer: 'dirty',
        note: 'A bitmap made with the overlay agrees with "local" wherever its granules match the clusters: compare it with the diff view (qemu:dirty-bitmap:cp against "written in the top layer").',
        since: BITMAP_SINCE,
      },
    ],
  },
];

/** The answer the engine gives for `step`, from the worker's hit. */
export function engineAnswer(
  step: LessonStep,
  detail: {
    readonly owner?: { readonly kind: string; readonly layer: number };
    readonly entries: readonly { readonly layer: number; readonly refcount?: number }[];
    readonly values: readonly { readonly id: string; readonly label: string; readonly explain: string }[];
  },
): { label: string; explain: string } | undefined {
  if (step.tool === 'kind') return detail.owner && { label: detail.owner.kind, explain: '' };
  if (step.tool === 'refcount') {
    const r = detail.entries.find((e) => e.layer === 0)?.refcount;
    return r === undefined ? undefined : { label: String(r), explain: '' };
  }
  const v = detail.values.find((x) => x.id === step.tool);
  return v && { label: v.label, explain: v.explain };
}
