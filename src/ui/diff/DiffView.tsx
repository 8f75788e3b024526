/**
 * The diff view (issue 4): replaces the single map while the store names an A and a B. The
 * worker computes both sides and the diff; this shows the legend with byte counts, the heatmap
 * in difference colours, lanes A / B / difference, the list with reasons, keyboard stepping
 * (n / p: next / previous difference, z: zoom to it, 0: whole image) and the exports.
 * B may read a second image (SecondImage.tsx), picked or dropped on this view.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { hex } from '../../core/format.ts';
import type { NativeFormat } from '../../core/interpret/catalogue.ts';
import type { DiffExportFormat, DiffSummary } from '../../worker/diffProtocol.ts';
import { useApp, useServices } from '../appContext.ts';
import type { ResolvedTheme } from '../palette.ts';
import { DiffHeatmap } from './DiffHeatmap.tsx';
import { DiffLanes } from './DiffLanes.tsx';
import { DiffLegend } from './DiffLegend.tsx';
import { DiffList } from './DiffList.tsx';
import { DIFF_PALETTES } from './diffPalette.ts';
import { SecondImage } from './SecondImage.tsx';
import './diff.css';
import { useDiff, useDiffClient } from './useDiff.ts';
import { useFileDrop } from './useFileDrop.ts';
import { useSecondImage } from './useSecondImage.ts';

const NATIVE: Readonly<Record<NativeFormat, { label: string; suffix: string }>> = {
  'qemu-img-map-json': { label: 'qemu-img map JSON', suffix: 'map.json' },
  'qemu-img-map-human': { label: 'qemu-img map (human)', suffix: 'map.txt' },
  nbdinfo: { label: 'nbdinfo --map', suffix: 'nbdinfo.txt' },
  'nbdinfo-json': { label: 'nbdinfo --map --json', suffix: 'nbdinfo.json' },
};

function save(text: string, name: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Index of the differing extent holding `offset`, else the first after it, else -1. */
function differenceAt(s: DiffSummary, offset: number): number {
  let lo = 0;
  let hi = s.count;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (s.start[m]! + s.length[m]! <= offset) lo = m + 1;
    else hi = m;
  }
  return lo < s.count ? lo : -1;
}

const isTyping = (t: EventTarget | null) =>
  t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName));

export function DiffView({ theme }: { theme: ResolvedTheme }) {
  const [second, openSecond] = useSecondImage();
  const ref = useRef<HTMLDivElement>(null);
  const dropping = useFileDrop(ref, openSecond);
  return (
    <div className="diff-view" data-testid="diff-view" data-dropping={dropping ? 'true' : 'false'} ref={ref}>
      {dropping && (
        <p className="diff-drop-hint" aria-hidden="true">
          Drop here to compare with image B (a second image with its backing files)
        </p>
      )}
      <SecondImage state={second} open={openSecond} />
      <DiffBody theme={theme} />
    </div>
  );
}

function DiffBody({ theme }: { theme: ResolvedTheme }) {
  const { store } = useServices();
  const dc = useDiffClient();
  const r = useDiff();
  const top = useApp((s) => s.chain?.layers[0]?.name ?? 'image');
  const palette = DIFF_PALETTES[theme];
  const [cur, setCur] = useState<{ diffId: number; i: number }>();
  const ready = r.status === 'ready' ? r : undefined;
  const current = ready && cur?.diffId === ready.diffId ? cur.i : -1;
  const [why, setWhy] = useState<{ diffId: number; i: number; text: string }>();
  useEffect(() => {
    if (!ready || current < 0) return;
    const { diffId } = ready;
    dc.reasons(diffId, current, current + 1).then(
      (t) => setWhy({ diffId, i: current, text: t[0] ?? '' }),
      () => {},
    );
  }, [dc, ready, current]);

  /** Makes difference i current; brings it into view (zoom: fit the view to it). */
  const go = useCallback(
    (i: number, zoom = false) => {
      if (!ready || i < 0 || i >= ready.summary.count) return;
      const s = ready.summary;
      setCur({ diffId: ready.diffId, i });
      const a = s.start[i]!;
      const z = a + s.length[i]!;
      const st = store.getState();
      const v = st.view;
      if (zoom) {
        const pad = Math.max(s.clusterSize, Math.round((z - a) / 4));
        st.setView({ start: a - pad, end: z + pad });
      } else if (a < v.start || a >= v.end) {
        const len = v.end - v.start;
        st.setView({ start: a - len / 2, end: a + len / 2 });
      }
    },
    [ready, store],
  );

  useEffect(() => {
    if (!ready) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
      const n = ready.summary.count;
      if (e.key === 'n' || e.key === 'j')
        go(
          current < 0
            ? differenceAt(ready.summary, store.getState().view.start)
            : Math.min(n - 1, current + 1),
        );
      else if (e.key === 'p' || e.key === 'k') go(current < 0 ? n - 1 : Math.max(0, current - 1));
      else if (e.key === 'z') go(Math.max(current, 0), true);
      else if (e.key === '0') store.getState().resetView();
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [ready, current, go, store]);

  const exportAs = (format: DiffExportFormat, name: string, type: string) => {
    if (!ready) return;
    dc.export(ready.diffId, format).then(
      (x) => save(x.text, name, type),
      () => {},
    );
  };

  if (r.status === 'idle' || r.status === 'needs-b') return null;
  if (r.status === 'computing')
    return (
      <p className="diff-status" role="status">
        Computing A, B and their difference…
      </p>
    );
  if (r.status === 'error')
    return (
      <p className="diff-status diff-error" role="alert">
        The comparison failed: {r.message}
      </p>
    );
  const s = r.summary;
  const sideLine = (tag: string, x: DiffSummary['a']) => (
    <li>
      <strong>{tag}</strong> {x.title} <span className="muted">({x.provenance})</span> · {x.file},{' '}
      {x.viewWords}
      {x.error && <span className="diff-error"> · QEMU stops at: {x.error}</span>}
    </li>
  );
  const cs = s.clusterSize;
  return (
    <div className="diff-view-body">
      <ul className="diff-sides">
        {sideLine('A', s.a)}
        {sideLine('B', s.b)}
      </ul>
      <DiffLegend summary={s} palette={palette} />
      <div className="diff-nav" role="toolbar" aria-label="Step through differences">
        <button type="button" onClick={() => go(Math.max(0, current - 1))} disabled={s.count === 0}>
          ← Previous <kbd>p</kbd>
        </button>
        <button
          type="button"
          onClick={() =>
            go(
              current < 0 ? differenceAt(s, store.getState().view.start) : Math.min(s.count - 1, current + 1),
            )
          }
          disabled={s.count === 0}
        >
          Next <kbd>n</kbd> →
        </button>
        <button type="button" onClick={() => go(Math.max(current, 0), true)} disabled={s.count === 0}>
          Zoom to it <kbd>z</kbd>
        </button>
        <button type="button" onClick={() => store.getState().resetView()}>
          Whole image <kbd>0</kbd>
        </button>
        <span className="diff-current" aria-live="polite" data-testid="diff-current">
          {current >= 0
            ? `Difference ${current + 1} of ${s.count}: ${
                Math.floor(s.start[current]! / cs) ===
                Math.floor((s.start[current]! + s.length[current]! - 1) / cs)
                  ? `cluster ${Math.floor(s.start[current]! / cs)}`
                  : `clusters ${Math.floor(s.start[current]! / cs)}-${Math.floor((s.start[current]! + s.length[current]! - 1) / cs)}`
              } at ${hex(s.start[current]!)}, ${s.kinds[s.kind[current]!]!.label}`
            : `${s.count} difference${s.count === 1 ? '' : 's'}`}
        </span>
      </div>
      {current >= 0 && (
        <p className="diff-why" data-testid="diff-why">
          {why?.diffId === r.diffId && why.i === current ? why.text : '…'}
        </p>
      )}
      <DiffHeatmap
        diffId={r.diffId}
        summary={s}
        palette={palette}
        current={current}
        onPick={(offset) => {
          const i = differenceAt(s, offset);
          if (i >= 0 && s.start[i]! <= offset) setCur({ diffId: r.diffId, i });
        }}
      />
      <DiffLanes diffId={r.diffId} summary={s} palette={palette} />
      <DiffList diffId={r.diffId} summary={s} palette={palette} current={current} onPick={(i) => go(i)} />
      <fieldset className="export diff-export">
        <legend>Export</legend>
        <button type="button" onClick={() => exportAs('diff-json', `${top}.diff.json`, 'application/json')}>
          Diff JSON
        </button>
        <button type="button" onClick={() => exportAs('diff-csv', `${top}.diff.csv`, 'text/csv')}>
          Diff CSV
        </button>
        {(['a', 'b'] as const).map((tag) =>
          s[tag].nativeFormats.map((f) => (
            <button
              key={`${tag}:${f}`}
              type="button"
              onClick={() =>
                exportAs(
                  `${tag}:${f}`,
                  `${top}.${tag.toUpperCase()}.${s[tag].interp}.${NATIVE[f].suffix}`,
                  'text/plain',
                )
              }
            >
              {tag.toUpperCase()}: {NATIVE[f].label}
            </button>
          )),
        )}
      </fieldset>
    </div>
  );
}
