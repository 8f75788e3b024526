/**
 * Reading the writer's image: guest content (qcow2_co_preadv_part()) and one node's block status
 * (qcow2_co_block_status() through qcow2_get_host_offset(), then the generic layer's ALLOCATED
 * and no-backing ZERO, bdrv_co_do_block_status(); reference §3.3-3.6). The run a query covers is
 * the codec's subclusterRun() (count_contiguous_subclusters()) and its flags are the status
 * code's kindFlags(), as for a read-only image.
 */
import { UnsupportedError } from '../../errors.ts';
import { decodeL2Table, L2Slice, QCOW2_SUBCLUSTER_INVALID, subclusterRun } from '../../qcow2/l2entry.ts';
import { BDRV_BLOCK_ALLOCATED, BDRV_BLOCK_DATA, BDRV_BLOCK_ZERO } from '../../status/flags.ts';
import {
  KIND_COMPRESSED,
  KIND_ERROR,
  KIND_NORMAL,
  KIND_UNALLOCATED_ALLOC,
  KIND_UNALLOCATED_PLAIN,
} from '../../status/kinds.ts';
import { kindFlags } from '../../status/resolve.ts';
import { type NodeStatus, roundDown } from '../image.ts';
import type { Qcow2Tables } from './tables.ts';

/** Guest content through the backing chain; past the length reads zeros. */
export function readGuest(w: Qcow2Tables, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const end = Math.min(offset + length, w.length);
  const sub = w.subclusterSize;
  let pos = offset;
  while (pos < end) {
    const stop = Math.min(end, roundDown(pos, sub) + sub);
    const kind = w.kindAt(pos);
    if (kind === KIND_NORMAL) {
      const l2 = w.l2For(pos);
      const host = w.hostOf(w.entry(l2, w.l2IndexOf(pos))) + (pos % w.clusterSize);
      out.set(w.file.readPadded(host, stop - pos), pos - offset);
    } else if (kind === KIND_UNALLOCATED_PLAIN || kind === KIND_UNALLOCATED_ALLOC) {
      const b = w.backing;
      if (b && pos < b.length) {
        const n = Math.min(stop, b.length) - pos;
        out.set(b.readGuest(pos, n), pos - offset);
      }
    } else if (kind === KIND_COMPRESSED) {
      throw new UnsupportedError(
        { file: w.file.name, structure: 'L2 entry', offset: pos },
        'the writer does not read compressed clusters',
      );
    } else if (kind === KIND_ERROR) {
      throw w.corrupt(pos, 'invalid subcluster allocation bitmap');
    }
    pos = stop;
  }
  return out;
}

const slices = new WeakMap<Qcow2Tables, L2Slice>();

/** This node's status at `offset` for up to `bytes` bytes, without walking into the backing file. */
export function nodeStatus(w: Qcow2Tables, offset: number, bytes: number): NodeStatus {
  const cs = w.clusterSize;
  const sub = w.subclusterSize;
  const inCluster = offset % cs;
  const l2i = w.l2IndexOf(offset);
  // The query never crosses the L2 table (the L2 slice, a whole table by default).
  const needed = Math.min(bytes, w.length - offset, (w.l2Entries - l2i) * cs - inCluster) + inCluster;
  const l2 = w.l2For(offset);
  let kind = KIND_UNALLOCATED_PLAIN;
  let available = needed;
  if (l2) {
    let slice = slices.get(w);
    if (!slice) {
      slice = new L2Slice(w.l2Entries);
      slices.set(w, slice);
    }
    decodeL2Table(w.file.readPadded(l2, cs), w.l2Entries, w.fmt, slice);
    const sc0 = Math.floor(inCluster / sub);
    const run = subclusterRun(slice, l2i, sc0, Math.ceil(needed / cs), w.fmt);
    kind = run.type;
    if (kind === QCOW2_SUBCLUSTER_INVALID) throw w.corrupt(offset, 'invalid subcluster allocation bitmap');
    available = Math.min(needed, (run.count + sc0) * sub);
  }
  const n = available - inCluster;
  let flags = kindFlags(kind, false, false);
  if (flags & (BDRV_BLOCK_DATA | BDRV_BLOCK_ZERO)) flags |= BDRV_BLOCK_ALLOCATED;
  else if (!w.backing || offset >= w.backing.length) flags |= BDRV_BLOCK_ZERO;
  return { flags, n };
}
