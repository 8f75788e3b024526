/**
 * Choosing A and B: an interpretation from the catalogue and a view (the chain as opened,
 * `backing: null`, a snapshot's L1, the zero scan) for each. The choice lives in the store and
 * the URL; "Compare" enters the diff view, "Single map" leaves it.
 */
import { useState } from 'react';
import { CATALOGUE } from '../../core/interpret/catalogue.ts';
import { DEFAULT_DIFF, type DiffSideState, type DiffSpec } from '../../state/diff.ts';
import { useApp } from '../appContext.ts';

const VIEWS: readonly [string, string][] = [
  ['', 'with backing chain'],
  ['backing-null', 'backing: null'],
  ['zero-scan', 'with chain, zero-scanned'],
  ['backing-null,zero-scan', 'backing: null, zero-scanned'],
];

function SidePicker({
  tag,
  side,
  onChange,
}: {
  tag: 'A' | 'B';
  side: DiffSideState;
  onChange: (s: DiffSideState) => void;
}) {
  const views = VIEWS.some(([v]) => v === side.view) ? VIEWS : [...VIEWS, [side.view, side.view] as const];
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
          {CATALOGUE.map((c) => (
            <option key={c.id} value={c.id}>
              {c.interpretation.title}
              {c.provenance.startsWith('proposed') ? ` (${c.provenance})` : ''}
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
  const [draft, setDraft] = useState<DiffSpec>(diff ?? DEFAULT_DIFF);
  // While comparing, the pickers edit the live comparison; otherwise a draft.
  const cur = diff ?? draft;
  const change = (d: DiffSpec) => (diff ? setDiff(d) : setDraft(d));
  if (!hasChain) return null;
  return (
    <section className="diff-picker" aria-label="Compare interpretations">
      <h2>Compare</h2>
      <SidePicker tag="A" side={cur.a} onChange={(a) => change({ ...cur, a })} />
      <SidePicker tag="B" side={cur.b} onChange={(b) => change({ ...cur, b })} />
      <div className="diff-picker-actions">
        <button type="button" onClick={() => change({ a: cur.b, b: cur.a })}>
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
