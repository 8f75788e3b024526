/**
 * The lessons: small chains built in the worker by core's writer (or one QEMU-made sample where
 * the writer cannot go), and questions about what a tool prints for one offset. The expected
 * answers follow the reference (qcow2-and-block-status.md §5-7) and the QEMU goldens;
 * lessons.test.ts checks each against the engine, and the page grades against the engine's
 * answer, never against this file alone.
 */
import type { SandboxOp } from '../../protocol/results.ts';

/** Which answer a step asks for: an interpretation id of the worker's hit detail, or the L2 type. */
export type LessonTool =
  | 'qemu-img-map-8.2'
  | 'nbd-base-allocation-6.0'
  | 'nbd-base-allocation-5.2'
  | 'nbd-allocation-depth'
  | 'kind';

export const TOOL_TITLES: Readonly<Record<LessonTool, string>> = {
  'qemu-img-map-8.2': 'qemu-img map --output=json (QEMU 10.2)',
  'nbd-base-allocation-6.0': 'nbdinfo --map (base:allocation, qemu-nbd 6.0+)',
  'nbd-base-allocation-5.2': 'nbdinfo --map (base:allocation, qemu-nbd 5.2)',
  'nbd-allocation-depth': 'nbdinfo --map=qemu:allocation-depth',
  kind: 'the deciding L2 entry type (qcow2_get_subcluster_type)',
};

export interface LessonStep {
  /** Chain top to open for this step (images of the lesson's build). */
  readonly top: string;
  readonly offset: number;
  readonly tool: LessonTool;
  readonly question: string;
  readonly choices: readonly string[];
  /** The expected answer (one of `choices`); lessons.test.ts holds it to the engine. */
  readonly answer: string;
  /** Why, in the reference's words, shown with the engine's explain(). */
  readonly note: string;
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
const DEPTH_CHOICES = ['absent', 'local', 'backing depth 2'];

/** Reference §7: raw base of 0xbb; top: c0 untouched, c1 written, c2 write -z, c3 written then discarded. */
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
    id: 'nbd-hole',
    title: 'The NBD hole: 5.2 vs 6.0',
    intro:
      'A raw base full of 0xbb; a qcow2 overlay where cluster 1 is written, cluster 2 is written as zeroes and cluster 3 is written then discarded (reference §7). qemu-nbd 6.0 changed what NBD_STATE_HOLE means (commit 0da9856851dc).',
    build: { ops: nbdHoleOps },
    steps: [
      {
        top: 'top.qcow2',
        offset: 2 * C,
        tool: 'nbd-base-allocation-6.0',
        question:
          'Cluster 2 was written with write -z (a ZERO_PLAIN entry in the top). What does nbdinfo --map print for it against qemu-nbd 6.0 or newer?',
        choices: NBD_CHOICES,
        answer: 'hole,zero',
        note: 'Since 6.0, HOLE means "not DATA". A zero cluster has no data, so it is a hole, even though the top layer owns it.',
      },
      {
        top: 'top.qcow2',
        offset: 2 * C,
        tool: 'nbd-base-allocation-5.2',
        question: 'The same cluster against qemu-nbd 5.2?',
        choices: NBD_CHOICES,
        answer: 'zero',
        note: 'Up to 5.2, HOLE meant "not ALLOCATED". The zero cluster is allocated in the top, so only ZERO was set. oVirt used that difference to tell "zeroed here" from "not here"; 6.0 took it away.',
      },
      {
        top: 'top.qcow2',
        offset: 3 * C,
        tool: 'nbd-allocation-depth',
        question:
          'Cluster 3 was discarded in an image with a backing file. Does the top still own it? What does qemu:allocation-depth say?',
        choices: DEPTH_CHOICES,
        answer: 'local',
        note: 'Discard with a backing file writes a ZERO_PLAIN entry (v3), so the top owns the range: it must read zeroes, not the 0xbb below. The maintainers\' answer to "does this layer own it?" is qemu:allocation-depth, not base:allocation.',
      },
      {
        top: 'top.qcow2',
        offset: 0,
        tool: 'nbd-allocation-depth',
        question: 'Cluster 0 was never touched in the top. What does qemu:allocation-depth say?',
        choices: DEPTH_CHOICES,
        answer: 'backing depth 2',
        note: 'The top does not allocate it; the raw base (depth 2) does.',
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
      'A v3 qcow2 image with no backing file: clusters 0 and 1 written; then write -z on cluster 0 with unmap (-u), on cluster 1 without, and on the never-written cluster 2 (reference §6.1).',
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
        choices: ['ZERO_PLAIN', 'ZERO_ALLOC', 'NORMAL', 'UNALLOCATED_PLAIN'],
        answer: 'ZERO_ALLOC',
        note: 'Without unmap QEMU keeps the host cluster (preallocated zero: entry 0x8000000000050001-style, offset kept, zero flag set).',
      },
      {
        top: 'zero.qcow2',
        offset: 0,
        tool: 'kind',
        question: 'Cluster 0 got write -z -u. Which entry now?',
        choices: ['ZERO_PLAIN', 'ZERO_ALLOC', 'NORMAL', 'UNALLOCATED_PLAIN'],
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
        note: 'NBD reports ZERO_PLAIN and ZERO_ALLOC alike as 3 hole,zero in 6.0+: reserved storage is not data.',
      },
      {
        top: 'zero.qcow2',
        offset: C,
        tool: 'qemu-img-map-8.2',
        question: 'And qemu-img map for cluster 1?',
        choices: MAP_CHOICES,
        answer: 'depth 0, present, zero',
        note: 'present, zero, data false; the JSON also carries the kept host "offset" (ZERO_ALLOC has OFFSET_VALID).',
      },
    ],
  },
  {
    id: 'discard-v2-v3',
    title: 'Discard on v2 vs v3',
    intro:
      'Two overlays on the same raw base (0xbb): v2.qcow2 (compat=0.10) and v3.qcow2 (compat=1.1). Both write clusters 0-1, then discard cluster 1 (reference §6.2, §6.1).',
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
        note: "On v2 with a backing file, discard is refused silently (ENOTSUP treated as success): the cluster keeps its data. Unmapping it would expose the backing file's bytes.",
      },
      {
        top: 'v3.qcow2',
        offset: C,
        tool: 'qemu-img-map-8.2',
        question: 'The same discard on v3?',
        choices: MAP_CHOICES,
        answer: 'depth 0, present, zero',
        note: 'v3 frees the host cluster and writes ZERO_PLAIN, so the range reads zeroes and the backing file stays hidden.',
      },
    ],
  },
  {
    id: 'subclusters',
    title: 'Subclusters (extended L2)',
    intro:
      'A qcow2 with extended_l2=on (64 KiB clusters, 32 subclusters of 2 KiB) over a raw base of 0xbb; a 4 KiB write at offset 0 (reference §2.6, §6.6).',
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
        question: 'Which subcluster type does the top have there?',
        choices: ['UNALLOCATED_PLAIN', 'UNALLOCATED_ALLOC', 'NORMAL', 'RAW_DATA'],
        answer: 'RAW_DATA',
        note: "Trick question: the deciding layer is the raw base (RAW_DATA). The top's own entry for that subcluster is UNALLOCATED_ALLOC; see the inspector's L2 entries.",
      },
    ],
  },
  {
    id: 'short-backing',
    title: 'A backing file shorter than the overlay',
    intro:
      'A raw base of 128 KiB under a 256 KiB qcow2 overlay that writes only its last cluster (reference §6.4).',
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
        note: 'Beyond the backing file\'s end the top itself answers ZERO (not ALLOCATED): depth 0, "present": false.',
      },
      {
        top: 'long.qcow2',
        offset: 2 * C,
        tool: 'nbd-allocation-depth',
        question: 'And qemu:allocation-depth for the same cluster?',
        choices: DEPTH_CHOICES,
        answer: 'backing depth 2',
        note: 'allocation-depth walks without the "beyond backing EOF" rule in the top and synthesizes ZERO|ALLOCATED at the short layer: the observed output is "0 196608 2 backing depth 2".',
      },
    ],
  },
  {
    id: 'compressed',
    title: 'Compressed clusters',
    intro:
      'A QEMU-made image (qemu-img convert -c, zlib); the writer cannot write compressed clusters, so this lesson opens the bundled sample. Clusters 0 and 1 are adjacent compressed clusters (reference §6.3).',
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
        note: 'No host offset (a compressed cluster has none that maps 1:1), "data": true, and since 8.2 "compressed": true. Adjacent compressed clusters merge into one entry.',
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
];

/** The answer the engine gives for `step`, from the worker's hit detail. */
export function engineAnswer(
  step: LessonStep,
  detail: {
    readonly owner?: { readonly kind: string };
    readonly values: readonly { readonly id: string; readonly label: string; readonly explain: string }[];
  },
): { label: string; explain: string } | undefined {
  if (step.tool === 'kind') return detail.owner && { label: detail.owner.kind, explain: '' };
  const v = detail.values.find((x) => x.id === step.tool);
  return v && { label: v.label, explain: v.explain };
}
