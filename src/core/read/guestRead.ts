/**
 * Reading guest content through a resolved chain: what a guest would read at an offset.
 * Used by the inspector's byte view, the zero scan of compressed data, and the tests that
 * compare clusterscope's reading to `qemu-img convert -O raw` (which proves the L2 and
 * compressed-descriptor bit math on real QEMU images).
 */
import { UnsupportedError } from '../errors.ts';
import type { ByteSource } from '../io/byteSource.ts';
import { readPadded } from '../io/byteSource.ts';
import { readCompressedCluster } from '../qcow2/compressed.ts';
import { INCOMPAT_DATA_FILE } from '../qcow2/header.ts';
import { decodeL2Entry } from '../qcow2/l2entry.ts';
import { lookupEntry } from '../qcow2/lookup.ts';
import { findExtent } from '../status/extents.ts';
import { KIND_COMPRESSED, KIND_NORMAL, KIND_RAW_DATA } from '../status/kinds.ts';
import type { ChainStatus } from '../status/resolve.ts';

export interface GuestReadOptions {
  /** Sources of external data files, by layer index. */
  readonly dataFiles?: ReadonlyMap<number, ByteSource>;
  /** L1 table the top was resolved from (a snapshot's), for compressed lookups. */
  readonly topL1?: Uint32Array;
}

export async function readGuest(
  st: ChainStatus,
  offset: number,
  length: number,
  opts: GuestReadOptions = {},
): Promise<Uint8Array> {
  const out = new Uint8Array(Math.max(0, Math.min(length, st.length - offset)));
  const e = st.extents;
  let pos = offset;
  const end = offset + out.length;
  let i = findExtent(e, pos);
  while (pos < end && i >= 0 && i < e.count) {
    const s = e.start[i]!;
    const stop = Math.min(end, s + e.length[i]!);
    const kind = e.kind[i]!;
    const layerIndex = e.layer[i]!;
    const layer = st.chain.layers[layerIndex]!;
    if (kind === KIND_NORMAL || kind === KIND_RAW_DATA) {
      if (layer.format === 'qcow2' && layer.encrypted) {
        throw new UnsupportedError(
          { file: layer.name, structure: 'encrypted data cluster' },
          'reading encrypted data needs the key',
        );
      }
      const hasDataFile =
        layer.format === 'qcow2' && (layer.header.incompatibleFeatures & INCOMPAT_DATA_FILE) !== 0n;
      const src = hasDataFile ? (opts.dataFiles ?? st.chain.dataFiles)?.get(layerIndex) : layer.source;
      if (!src) {
        throw new UnsupportedError(
          { file: layer.name, structure: 'external data file' },
          'the data file was not supplied',
        );
      }
      // Raw extents carry host offsets; qcow2 ones too (OFFSET_VALID is never dropped for readable data).
      const host = e.host[i]! + (pos - s);
      out.set(await readPadded(src, host, stop - pos), pos - offset);
    } else if (kind === KIND_COMPRESSED && layer.format === 'qcow2') {
      for (let p = pos; p < stop; ) {
        const cs = layer.header.clusterSize;
        const cstart = p - (p % cs);
        const lk = await lookupEntry(layer, cstart, layerIndex === 0 ? (opts.topL1 ?? layer.l1) : layer.l1);
        const entry = decodeL2Entry(lk.l2Entry, layer.header, false);
        if (entry.type !== 'compressed') break;
        const data = await readCompressedCluster(
          layer,
          entry,
          `compressed cluster (L1[${lk.l1Index}], L2[${lk.l2Index}])`,
        );
        const q = Math.min(stop, cstart + cs);
        out.set(data.subarray(p - cstart, q - cstart), p - offset);
        p = q;
      }
    }
    // Every other kind reads as zeroes (ZERO_*, unallocated without backing, past a backing EOF).
    pos = stop;
    i++;
  }
  return out;
}
