// Honest comparison of two `qemu-img map --output=json` answers: exact text, entry by entry,
// and byte by byte over the guest range (so differing segmentation is measured, not hidden).

const FIELDS = ['depth', 'present', 'zero', 'data', 'compressed', 'offset'];

/** Normalises whitespace only: qemu-img's JSON has a fixed layout, so this is near-exact. */
const norm = (t) => t.replace(/\s+/g, '');

export function compareMaps(textA, textB) {
  // Byte-identical answers are equal in every field and every byte; parsing a million-entry map
  // twice into objects takes ~13 s and 2 GiB here, so they are only counted (each entry has one
  // "start" key).
  if (textA === textB) {
    const entries = textA.split('"start"').length - 1;
    return {
      textIdentical: true,
      textEqualModuloWhitespace: true,
      entriesA: entries,
      entriesB: entries,
      equal: true,
      entryDiffs: new Map(),
      byteDiffs: new Map(),
      firstDiff: undefined,
    };
  }
  const a = JSON.parse(textA);
  const b = JSON.parse(textB);
  const res = {
    textIdentical: textA === textB,
    textEqualModuloWhitespace: norm(textA) === norm(textB),
    entriesA: a.length,
    entriesB: b.length,
    equal: false,
    // Entries (same index, same start and length) whose differing fields are exactly this set.
    entryDiffs: new Map(),
    // Guest bytes on which a field differs, by field; keys present in only one side count too.
    byteDiffs: new Map(),
    firstDiff: undefined,
  };
  let differing = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const keys = new Set([...Object.keys(a[i]), ...Object.keys(b[i])]);
    const diff = [...keys].filter((k) => a[i][k] !== b[i][k]);
    if (diff.length) {
      differing++;
      const key = diff.join('+');
      res.entryDiffs.set(key, (res.entryDiffs.get(key) ?? 0) + 1);
      res.firstDiff ??= { index: i, a: a[i], b: b[i] };
    }
  }
  if (a.length !== b.length && !res.firstDiff) res.firstDiff = { index: n, a: a[n], b: b[n] };
  res.equal = differing === 0 && a.length === b.length;

  // Byte walk: compare the two answers on every overlapping piece of the guest range.
  let i = 0;
  let j = 0;
  let pos = 0;
  while (i < a.length && j < b.length) {
    const ea = a[i];
    const eb = b[j];
    const end = Math.min(ea.start + ea.length, eb.start + eb.length);
    const len = end - pos;
    if (len > 0) {
      for (const f of FIELDS) {
        if (!(f in ea) && !(f in eb)) continue;
        const va = f === 'offset' && 'offset' in ea ? ea.offset + (pos - ea.start) : ea[f];
        const vb = f === 'offset' && 'offset' in eb ? eb.offset + (pos - eb.start) : eb[f];
        if (va !== vb) res.byteDiffs.set(f, (res.byteDiffs.get(f) ?? 0) + len);
      }
    }
    pos = end;
    if (ea.start + ea.length <= pos) i++;
    if (eb.start + eb.length <= pos) j++;
  }
  const endA = a.length ? a.at(-1).start + a.at(-1).length : 0;
  const endB = b.length ? b.at(-1).start + b.at(-1).length : 0;
  if (endA !== endB) res.byteDiffs.set('length', Math.abs(endA - endB));
  return res;
}

/** One-paragraph account of a comparison, naming every field that differs. */
export function describeComparison(c, nameA = 'qemu-img', nameB = 'clusterscope') {
  const lines = [];
  lines.push(
    `outputs equal: ${c.equal ? 'yes' : 'no'} (${nameA} ${c.entriesA} entries, ${nameB} ${c.entriesB}; ` +
      `text ${c.textIdentical ? 'byte-identical' : c.textEqualModuloWhitespace ? 'equal modulo whitespace' : 'differs'})`,
  );
  if (!c.equal) {
    for (const [k, v] of c.entryDiffs) lines.push(`  ${v} entries differ only in: ${k}`);
    if (c.entriesA !== c.entriesB) lines.push(`  entry counts differ by ${c.entriesB - c.entriesA}`);
    for (const [k, v] of c.byteDiffs) lines.push(`  guest bytes where "${k}" differs: ${v} (${fmtBytes(v)})`);
    if (c.firstDiff) {
      lines.push(`  first difference at entry ${c.firstDiff.index}:`);
      lines.push(`    ${nameA}: ${JSON.stringify(c.firstDiff.a)}`);
      lines.push(`    ${nameB}: ${JSON.stringify(c.firstDiff.b)}`);
    }
  }
  return lines.join('\n');
}

export function fmtBytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let x = n;
  while (x >= 1024 && i < u.length - 1) {
    x /= 1024;
    i++;
  }
  return `${Number.isInteger(x) ? x : x.toFixed(1)} ${u[i]}`;
}
