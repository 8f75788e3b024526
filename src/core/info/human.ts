/**
 * `qemu-img info` human output (QEMU 7.2 bdrv_image_info_dump(), bdrv_snapshot_dump() and
 * dump_qobject() in block/qapi.c). Format-specific data is printed from the same QDict-ordered
 * members as the JSON, keys with '-' turned into ' '. Snapshot dates are local time, as QEMU's
 * localtime_r(), so they depend on the time zone of the machine that prints them.
 *
 * One deliberate difference: names from the image (file names, snapshot and bitmap names)
 * have their control characters escaped as QEMU's JSON escapes them (escapeControls()), where
 * qemu-img prints them raw and a backing file name can move the cursor or retitle the terminal.
 */
import { decimal, escapeControls as esc } from '../format.ts';
import type { ImageInfo, SnapshotInfo } from './info.ts';
import type { QemuJson } from './qemuJson.ts';

/** %0.3g of a value below 1000, as printf prints it. */
function g3(x: number): string {
  if (x === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(x)));
  if (exp >= 3 || exp < -4) {
    const [m, e] = x.toExponential(2).split('e') as [string, string];
    const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
    const en = Number(e);
    return `${mant}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  }
  const s = x.toFixed(Math.max(0, 2 - exp));
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** util/cutils.c size_to_str(): "1 MiB", "2.19 MiB", "468 KiB", "0 B". */
export function sizeToStr(val: number): string {
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  // frexp(val / (1000/1024)) exponent minus one is floor(log2(val * 1024 / 1000)).
  const scaled = val / (1000 / 1024);
  const e = scaled === 0 ? 0 : Math.floor(Math.log2(scaled)) + 1;
  const i = Math.max(0, Math.trunc((e - 1) / 10));
  return `${g3(val / 2 ** (i * 10))} ${suffixes[i]}B`;
}

const pad2 = (n: number) => String(n).padStart(2, '0');
const padL = (s: string, n: number) => s.padStart(n);
const padR = (s: string, n: number) => s.padEnd(n);

export const SNAPSHOT_LIST_HEADER = `${padR('ID', 10)}${padR('TAG', 17)}${padL('VM SIZE', 8)}${padL('DATE', 20)}${padL('VM CLOCK', 13)}${padL('ICOUNT', 11)}`;

/** One bdrv_snapshot_dump() row (without newline). */
export function snapshotRow(sn: SnapshotInfo): string {
  const d = new Date(sn['date-sec'] * 1000);
  const date = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  const secs = sn['vm-clock-sec'];
  const clock = `${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor(secs / 60) % 60)}:${pad2(secs % 60)}.${String(Math.floor(sn['vm-clock-nsec'] / 1000000) % 1000).padStart(3, '0')}`;
  const icount = sn.icount === undefined ? '' : String(sn.icount);
  return `${padR(esc(sn.id), 9)} ${padR(esc(sn.name), 16)} ${padL(sizeToStr(sn['vm-state-size']), 8)}${padL(date, 20)}${padL(clock, 13)}${padL(icount, 11)}`;
}

function dumpValue(indent: number, v: QemuJson): string {
  if (typeof v === 'string') return esc(v);
  if (typeof v === 'number') return decimal(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) {
    let out = '';
    (v as readonly QemuJson[]).forEach((item, i) => {
      const composite = typeof item === 'object';
      out += `${' '.repeat(indent * 4)}[${i}]:${composite ? '\n' : ' '}${dumpValue(indent + 1, item)}${composite ? '' : '\n'}`;
    });
    return out;
  }
  let out = '';
  const obj = v as { readonly [k: string]: QemuJson };
  for (const k of Object.keys(obj)) {
    const item = obj[k]!;
    const composite = typeof item === 'object';
    out += `${' '.repeat(indent * 4)}${esc(k.replaceAll('-', ' '))}:${composite ? '\n' : ' '}${dumpValue(indent + 1, item)}${composite ? '' : '\n'}`;
  }
  return out;
}

/** bdrv_image_info_dump() for one image. */
export function formatImageInfoHuman(info: ImageInfo): string {
  const actual = info['actual-size'];
  let s =
    `image: ${esc(info.filename)}\n` +
    `file format: ${info.format}\n` +
    `virtual size: ${sizeToStr(info['virtual-size'])} (${decimal(info['virtual-size'])} bytes)\n` +
    `disk size: ${actual === undefined ? 'unavailable' : sizeToStr(actual)}\n`;
  if (info.encrypted) s += 'encrypted: yes\n';
  if (info['cluster-size'] !== undefined) s += `cluster_size: ${info['cluster-size']}\n`;
  if (info['dirty-flag']) s += 'cleanly shut down: no\n';
  const bf = info['backing-filename'];
  if (bf !== undefined) {
    const full = info['full-backing-filename'];
    s += `backing file: ${esc(bf)}`;
    if (full === undefined) s += ' (cannot determine actual path)';
    else if (full !== bf) s += ` (actual path: ${esc(full)})`;
    s += '\n';
    if (info['backing-filename-format'] !== undefined)
      s += `backing file format: ${esc(info['backing-filename-format'])}\n`;
  }
  if (info.snapshots) {
    s += `Snapshot list:\n${SNAPSHOT_LIST_HEADER}\n`;
    for (const sn of info.snapshots) s += `${snapshotRow(sn)}\n`;
  }
  const spec = info['format-specific'];
  if (spec) s += `Format specific information:\n${dumpValue(1, spec.data as unknown as QemuJson)}`;
  return s;
}

/** dump_human_image_info_list(): images separated by a blank line. */
export const formatInfoHuman = (infos: readonly ImageInfo[]): string =>
  infos.map(formatImageInfoHuman).join('\n');
