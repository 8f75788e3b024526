/**
 * Choosing A and B: an interpretation from the catalogue, or a persistent bitmap of the image
 * the side reads (qemu:dirty-bitmap:NAME, to diff against another bitmap or against what the top
 * layer holds), and a view (the chain as opened, `backing: null`, each internal snapshot's L1 as
 * the worker lists them, the zero scan) for each. The choice lives in the store and the URL;
 * "Compare" enters the diff view, "Single map" leaves it.
 */
import { useEffect, useState } from 'react';
import { CATALOGUE } from '../../core/interpret/catalogue.ts';
import { describeView, formatView } from '../../core/interpret/viewSource.ts';
import type { SnapshotName } from '../../protocol/results.ts';
import type { BitmapInfo } from '../../protocol/source.ts';
import { DEFAULT_DIFF, type DiffSideState, type DiffSpec, secondFor } from '../../state/diff.ts';
import { useApp, useServices } from '../appContext.ts';

const NONE: readonly BitmapInfo[] = [];

const VIEWS: readonly [string, string][] = [
  ['', 'with backing chain'],
  ['backing-null', 'backing: null'],
  // A content scan reads the image's data: it says how much as it starts, and can be cancelled.
  ['zero-scan', 'with chain, content-scanned (reads the data)'],
  ['backing-null,zero-scan', 'backing: null, content-scanned (reads the data)'],
];

/**
 * Each internal snapshot's L1 as a view, with the chain and with `backing: null`. A name with
 * ',' cannot be written in the view text form (viewSource.ts); such a snapshot is named by id.
 */
function snapshotViews(snaps: readonly SnapshotName[]): [string, string][] {
  return snaps.flatMap((sn) => {
    const snapshot = sn.name.includes(',') ? sn.id : sn.name;
    return (['chain', 'null'] as const).map((backing): [string, string] => {
      const v = { backing, snapshot };
      return [formatView(v), describeView(v)];
    });
  });
}

/** Internal snapshots of the source a side reads (the page's image or image B); none while unknown. */
function useSnapshots(chain: number | undefined): readonly SnapshotName[] {
  const { client } = useServices();
  const [got, setGot] = useState<{ chain: number; snaps: readonly SnapshotName[] }>();
  useEffect(() => {
    if (chain === undefined) return;
    let live = true;
    client.call('snapshots', { source: chain }).then(
      (snaps) => {
        if (live) setGot({ chain, snaps });
      },
      () => {
        if (live) setGot({ chain, snaps: [] });
      },
    );
    return () => {
      live = false;
    };
  }, [client, chain]);
  return got !== undefined && got.chain === chain ? got.snaps : [];
}

/** A side's interpretations: the catalogue, then the bitmaps qemu-nbd -B exports from its image. */
function interpretations(bitmaps: readonly BitmapInfo[], current: string): [string, string][] {
  const list: [string, string][] = [
    ...CATALOGUE.map((c): [string, string] => [
      c.id,
      `${c.interpretation.title}${c.provenance.startsWith('proposed') ? ` (${c.provenance})` : ''}`,
    ]),
    ...bitmaps.flatMap((b): [string, string][] =>
      b.id && !b.problem ? [[b.id, `NBD qemu:dirty-bitmap:${b.name} (persistent bitmap)`]] : [],
    ),
  ];
  // A link may name a bitmap this image lacks: keep it listed (the diff says it is not found).
  return list.some(([id]) => id === current) ? list : [...list, [current, current]];
}

function SidePicker({
  tag,
  side,
  snapshots,
  bitmaps,
  onChange,
}: {
  tag: 'A' | 'B';
  side: DiffSideState;
  snapshots: readonly SnapshotName[];
  bitmaps: readonly BitmapInfo[];
  onChange: (s: DiffSideState) => void;
}) {
  const known = [...VIEWS, ...snapshotViews(snapshots)];
  const views = known.some(([v]) => v === side.view) ? known : [...known, [side.view, side.view] as const];
  return (
    <fieldset className="diff-side">
      <legend>{tag}</legend>
      <label>
        <span className="sr-only">{tag} interpretation</span>
        <select
          aria-label={`${tag} interpretation`}
          value={side.interp}
          onChange={(e) => onChange({ ...side, interp: e.currentTarget.value })}
        >
          {interpretations(bitmaps, side.interp).map(([id, label]) => (
            <option key={id} value={id}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span className="sr-only">{tag} view</span>
        <select
          aria-label={`${tag} view`}
          value={side.view}
          onChange={(e) => onChange({ ...side, view: e.currentTarget.value })}
        >
          {views.map(([v, label]) => (
            <option key={v} value={v}>
              {label}
            </option>
          ))}
        </select>
      </label>
    </fieldset>
  );
}

export function DiffPicker() {
  const hasChain = useApp((s) => s.chain !== undefined);
  const diff = useApp((s) => s.diff);
  const setDiff = useApp((s) => s.setDiff);
  const openId = useApp((s) => (s.chain?.kind === 'image' && s.chain.complete ? s.chain.id : undefined));
  const bChain = useApp((s) => secondFor(s.diff, s.second)?.id);
  const bitmapsA = useApp((s) => s.chain?.bitmaps ?? NONE);
  const bitmapsB = useApp((s) => secondFor(s.diff, s.second)?.bitmaps ?? s.chain?.bitmaps ?? NONE);
  const snapsA = useSnapshots(openId);
  const snapsB = useSnapshots(bChain ?? openId);
  const [draft, setDraft] = useState<DiffSpec>(diff ?? DEFAULT_DIFF);
  // While comparing, the pickers edit the live comparison; otherwise a draft.
  const cur = diff ?? draft;
  const change = (d: DiffSpec) => (diff ? setDiff(d) : setDraft(d));
  if (!hasChain) return null;
  return (
    <section className="diff-picker" aria-label="Compare interpretations">
      <h2>Compare</h2>
      <SidePicker
        tag="A"
        side={cur.a}
        snapshots={snapsA}
        bitmaps={bitmapsA}
        onChange={(a) => change({ ...cur, a })}
      />
      <SidePicker
        tag="B"
        side={cur.b}
        snapshots={snapsB}
        bitmaps={bitmapsB}
        onChange={(b) => change({ ...cur, b })}
      />
      <label className="diff-mode">
        Compare by{' '}
        <select
          value={cur.byValue ? 'values' : 'meaning'}
          onChange={(e) => {
            const { byValue: _v, ...rest } = cur;
            change(e.currentTarget.value === 'values' ? { ...rest, byValue: true } : rest);
          }}
        >
          <option value="meaning">meaning (the facts both state)</option>
          <option value="values">the tools' values (as text diffs do)</option>
        </select>
      </label>
      <div className="diff-picker-actions">
        <button
          type="button"
          disabled={cur.bImage !== undefined}
          title={
            cur.bImage
              ? 'A reads the page image and B a second image: swap the images by opening them the other way round'
              : undefined
          }
          onClick={() => change({ ...cur, a: cur.b, b: cur.a })}
        >
          Swap
        </button>
        {diff ? (
          <button
            type="button"
            onClick={() => {
              setDraft(diff);
              setDiff(undefined);
            }}
          >
            Single map
          </button>
        ) : (
          <button type="button" className="primary" onClick={() => setDiff(draft)}>
            Compare A and B
          </button>
        )}
      </div>
    </section>
  );
}
