/**
 * What an incremental backup reads, from QEMU's own answers: the qemu:dirty-bitmap:NAME,
 * base:allocation and qemu:allocation-depth maps nbdinfo printed for one qemu-nbd -B export
 * (fixtures/golden), intersected byte range by byte range. Tests hold the engine to it.
 */
import { BACKUP_ABSENT, BACKUP_CLEAN, BACKUP_DATA, BACKUP_ZERO } from '../core/interpret/bitmap.ts';
import { golden, parseNbdinfo } from './fixtures.ts';

/** [start, length, BACKUP_*] runs over [0, length), merged. */
export function goldenBackupRuns(
  caseName: string,
  bitmapFile: string,
  length: number,
): [number, number, number][] {
  const dirty = parseNbdinfo(golden(caseName, bitmapFile)!);
  const base = parseNbdinfo(golden(caseName, 'nbd-base.txt')!);
  const depth = parseNbdinfo(golden(caseName, 'nbd-depth.txt')!);
  const cuts = new Set<number>([0, length]);
  for (const m of [dirty, base, depth]) for (const [o, l] of m) cuts.add(o).add(o + l);
  const at = (m: typeof dirty, off: number) => m.find(([o, l]) => o <= off && off < o + l)![2];
  const sorted = [...cuts].filter((c) => c <= length).sort((a, b) => a - b);
  const out: [number, number, number][] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const s = sorted[i]!;
    const v = !at(dirty, s)
      ? BACKUP_CLEAN
      : at(depth, s) === 0
        ? BACKUP_ABSENT
        : at(base, s) & 2
          ? BACKUP_ZERO
          : BACKUP_DATA;
    const p = out.at(-1);
    if (p && p[2] === v) p[1] += sorted[i + 1]! - s;
    else out.push([s, sorted[i + 1]! - s, v]);
  }
  return out;
}
