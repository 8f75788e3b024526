/**
 * A diff by meaning in words (issue 11.1): which facts were compared, which facts only one side
 * tells ("B also tells present"), and which values one side prints over ranges the other tells
 * apart ("A prints 'depth 0, zero' the same for cluster 2 and cluster 3; B's present tells them
 * apart"). The CLI prints these lines; the page can print them or build its own from the same
 * plain data (Diff.facts, Diff.indistinguishable).
 */
import type { Diff, DiffExample, Indistinguishable } from './diff.ts';
import { clusterRange } from './reason.ts';

export interface MeaningWords {
  /** Names of the sides: "A (qemu-img map (QEMU 6.0))"; default "A" / "B". */
  readonly nameA?: string;
  readonly nameB?: string;
  /** Cluster size for "cluster 2 [0x20000, 0x30000)"; default 512 (sectors). */
  readonly clusterSize?: number;
  /** How to write a byte count; default "N bytes". */
  readonly bytes?: (n: number) => string;
}

const plainBytes = (n: number): string => `${n} bytes`;

/** "Compared by meaning: zero, data (both state them over 262144 bytes)." or the values sentence. */
export function comparedSentence(d: Diff, w: MeaningWords = {}): string {
  if (d.mode === 'values')
    return 'Compared by value (the tools’ own encodings, as text diff tools compare them).';
  const bytes = w.bytes ?? plainBytes;
  const both = d.facts.filter((f) => f.bytesBoth > 0);
  if (!both.length)
    return 'Compared by meaning: the two sides state no fact in common, so nothing was compared.';
  const most = Math.max(...both.map((f) => f.bytesBoth));
  const partial = both.filter((f) => f.bytesBoth < most);
  const note = partial.length
    ? `; ${partial.map((f) => `${f.id} only over ${bytes(f.bytesBoth)}`).join(', ')}`
    : '';
  return `Compared by meaning: ${both.map((f) => f.id).join(', ')} (stated by both over ${bytes(most)}${note}).`;
}

/** One line per fact only one side tells somewhere: "B also tells present (present in the chain) over N bytes". */
export function alsoTellsSentences(d: Diff, w: MeaningWords = {}): string[] {
  const bytes = w.bytes ?? plainBytes;
  const out: string[] = [];
  for (const f of d.facts) {
    for (const [tag, name, only, otherDeclares] of [
      ['A', w.nameA ?? 'A', f.bytesOnlyA, f.declaredB],
      ['B', w.nameB ?? 'B', f.bytesOnlyB, f.declaredA],
    ] as const) {
      if (only <= 0) continue;
      const other = tag === 'A' ? (w.nameB ?? 'B') : (w.nameA ?? 'A');
      const where = otherDeclares ? `where ${other} does not tell it` : `${other} never states it`;
      out.push(`${name} also tells ${f.id} (${f.label}) over ${bytes(only)}; ${where}.`);
    }
  }
  return out;
}

const example = (e: DiffExample, clusterSize: number): string => clusterRange(e.start, e.length, clusterSize);

/** "A prints "depth 0, zero" the same for B's "..." (N bytes, e.g. cluster 2 [...]) and ...; B's present tells them apart." */
export function indistinguishableSentence(x: Indistinguishable, w: MeaningWords = {}): string {
  const bytes = w.bytes ?? plainBytes;
  const cs = w.clusterSize ?? 512;
  const [me, them] = x.side === 'a' ? [w.nameA ?? 'A', w.nameB ?? 'B'] : [w.nameB ?? 'B', w.nameA ?? 'A'];
  const members = x.members.map((m) => {
    const facts = m.facts.map((f) => `${f.fact} ${f.value}`).join(', ');
    const eg = m.examples.length ? `, e.g. ${m.examples.map((e) => example(e, cs)).join('; ')}` : '';
    return `"${m.label}" (${facts}: ${bytes(m.bytes)} in ${m.extents} extent${m.extents === 1 ? '' : 's'}${eg})`;
  });
  const list =
    members.length === 2 ? members.join(' and ') : `${members.slice(0, -1).join(', ')} and ${members.at(-1)}`;
  return `${me} prints "${x.label}" the same for ${them}'s ${list}; ${them}'s ${x.facts.join(' and ')} ${x.facts.length === 1 ? 'tells' : 'tell'} them apart.`;
}

/** Everything a diff by meaning says beyond its differing extents, one sentence a line. */
export function meaningNotes(d: Diff, w: MeaningWords = {}): string[] {
  return [
    comparedSentence(d, w),
    ...alsoTellsSentences(d, w),
    ...d.indistinguishable.map((x) => indistinguishableSentence(x, w)),
  ];
}
