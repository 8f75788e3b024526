/**
 * QEMU's JSON as qemu-img prints it (qobject/json-writer.c, QEMU 7.2): four-space indentation,
 * `"key": value`, empty containers as `{`/`[` newline `}`/`]`, and every character outside
 * printable ASCII escaped as \uXXXX (upper-case hex, surrogate pairs beyond the BMP).
 *
 * Member order is not the schema's: a QDict is a 512-bucket hash table keyed by tdb_hash(), and
 * the writer walks it bucket by bucket, the newest entry first within a bucket
 * (qobject/qdict.c). `qdictOrder` reproduces that order so output matches byte for byte.
 */
import { decimal, escapeCodePoint } from '../format.ts';

export type QemuJson = string | number | boolean | readonly QemuJson[] | { readonly [key: string]: QemuJson };

const QDICT_BUCKET_MAX = 512;

/** qobject/qdict.c tdb_hash(), on the key's bytes (keys here are ASCII). */
export function tdbHash(key: string): number {
  let value = Math.imul(0x238f13af, key.length) >>> 0;
  for (let i = 0; i < key.length; i++) {
    value = (value + ((key.charCodeAt(i) & 0xff) << ((i * 5) % 24))) >>> 0;
  }
  return (Math.imul(1103515243, value) + 12345) >>> 0;
}

/**
 * Returns `obj` with its keys in the order QEMU prints them, given `obj`'s keys in the order the
 * QAPI visitor inserts them (the schema's member order), which only breaks ties within a bucket.
 */
export function qdictOrder<T extends object>(obj: T): T {
  const keys = Object.keys(obj).map((k, i) => ({ k, i, b: tdbHash(k) % QDICT_BUCKET_MAX }));
  keys.sort((x, y) => x.b - y.b || y.i - x.i);
  const out: Record<string, unknown> = {};
  const src = obj as Record<string, unknown>;
  for (const { k } of keys) out[k] = src[k];
  return out as T;
}

function quoted(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (cp < 0x20 || cp >= 0x7f) out += escapeCodePoint(cp);
    else out += ch;
  }
  return `${out}"`;
}

/**
 * qobject_to_json_pretty(): the text qemu-img prints (without its trailing newline). Takes any
 * plain object of JSON values (typed results such as ImageInfo included); undefined members
 * are left out, as QAPI leaves out absent optional members.
 */
export function toQemuJson(value: QemuJson | object, depth = 0): string {
  const pad = (d: number) => `\n${' '.repeat(4 * d)}`;
  if (typeof value === 'string') return quoted(value);
  // Exactly, past 2^53 too ("virtual-size" of a 64 PiB image): qemu-img prints int64 values.
  if (typeof value === 'number') return decimal(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) {
    const items = (value as readonly (QemuJson | object)[]).map(
      (v) => pad(depth + 1) + toQemuJson(v, depth + 1),
    );
    return `[${items.join(',')}${pad(depth)}]`;
  }
  const obj = value as { readonly [key: string]: QemuJson | object | undefined };
  const members: string[] = [];
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    if (v !== undefined) members.push(`${pad(depth + 1)}${quoted(k)}: ${toQemuJson(v, depth + 1)}`);
  }
  return `{${members.join(',')}${pad(depth)}}`;
}
