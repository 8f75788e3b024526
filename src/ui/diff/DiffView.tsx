/**
 * The diff view (issue 4): replaces the single map while the store names an A and a B. The
 * worker computes both sides and the diff as a source of its own (state/diffFollow.ts); this
 * shows the legend with byte counts, the heatmap and lanes through the same shells as the map
 * (GridView, Lanes), the differences as rows with their reasons (RowsTable), keyboard stepping
 * (n / p: next / previous difference, z: zoom to it, 0: whole image) and the exports.
 * B may read a second image (SecondImage.tsx), picked or dropped on this view.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { binarySize, hex } from '../../core/format.ts';
import type { NativeFormat } from '../../core/interpret/catalogue.ts';
import type { ExportFormat } from '../../protocol/results.ts';
import type { DiffInfo } from '../../protocol/source.ts';
import { secondFor } from '../../state/diff.ts';
import { cancelDiff } from '../../state/diffFollow.ts';
import { useApp, useServices } from '../appContext.ts';
import { download } from '../download.ts';
import { GridView } from '../GridView.tsx';
import { HighlightBar } from '../HighlightBar.tsx';
import { Lanes } from '../Lanes.tsx';
import { diffLook, diffSideLook } from '../looks.ts';
import { colourOf, PALETTES, type ResolvedTheme, sideColours } from '../palette.ts';
import { RowsTable } from '../RowsTable.tsx';
import { diffMixWords } from '../words.ts';
import { ContentCompare } from './ContentCompare.tsx';
import { DiffLegend } from './DiffLegend.tsx';
import { SecondImage } from './SecondImage.tsx';
import './diff.css';
import { useFileDrop } from './useFileDrop.ts';
import { useSecondImage } from './useSecondImage.ts';

const NATIVE: Readonly<Record<NativeFormat, { label: string; suffix: string }>> = {
  'qemu-img-map-json': { label: 'qemu-img map JSON', suffix: 'map.json' },
  'qemu-img-map-human': { label: 'qemu-img map (human)', suffix: 'map.txt' },
  nbdinfo: { label: 'nbdinfo --map', suffix: 'nbdinfo.txt' },
  'nbdinfo-json': { label: 'nbdinfo --map --json', suffix: 'nbdinfo.json' },
};

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
      <Content />
      <DiffBody theme={theme} />
    </div>
  );
}

/** When B reads a second image: the two images' content compared as qemu-img compare does. */
function Content() {
  const a = useApp((s) => (s.chain?.kind === 'image' && s.chain.complete ? s.chain : undefined));
  const b = useApp((s) => secondFor(s.diff, s.second));
  return a && b?.complete ? <ContentCompare a={a} b={b} /> : null;
}

/** The current difference: its index, range and words (one row of the diff source). */
interface Current {
  readonly diff: number;
  readonly i: number;
  readonly start: number;
  readonly length: number;
  readonly where: string;
  readonly kind: string;
  readonly reason: string;
}

function DiffBody({ theme }: { theme: ResolvedTheme }) {
  const { store, client } = useServices();
  const r = useApp((s) => s.diffResult);
  if (r.status === 'idle' || r.status === 'needs-b') return null;
  if (r.status === 'computing') {
    const g = r.progress;
    return (
      <div className="diff-status">
        <p role="status">
          {g
            ? `${g.phase}: reading ${binarySize(g.done)} of ${binarySize(g.total)}…`
            : 'Computing A, B and their difference…'}
        </p>
        {g && (
          <p className="scan-progress">
            <progress value={g.done} max={g.total || 1} aria-label={g.phase} />{' '}
            <button type="button" onClick={() => cancelDiff(store, client)}>
              Cancel
            </button>
          </p>
        )}
      </div>
    );
  }
  if (r.status === 'cancelled')
    return (
      <p className="diff-status" role="status">
        Stopped: nothing was compared.{' '}
        <button type="button" onClick={() => store.getState().rerunDiff()}>
          Compute again
        </button>
      </p>
    );
  if (r.status === 'error')
    return (
      <p className="diff-status diff-error" role="alert">
        The comparison failed: {r.message}
      </p>
    );
  return <Ready d={r.info} theme={theme} />;
}

function Ready({ d, theme }: { d: DiffInfo; theme: ResolvedTheme }) {
  const { store, client } = useServices();
  const top = useApp((s) => s.chain?.layers[0]?.name ?? 'image');
  const p = PALETTES[theme];
  const [cur, setCur] = useState<Current>();
  const current = cur?.diff === d.id ? cur : undefined;
  /** The index the newest step went to, before its row has arrived (keys come faster than rows). */
  const aim = useRef<{ diff: number; i: number }>(undefined);
  const at = () => (aim.current?.diff === d.id ? aim.current.i : (current?.i ?? -1));

  /**
   * Makes a difference current: the row at index `from`, or the first ending after offset `at`
   * (`exact`: only one holding it). Brings it into view; `zoom` fits the view to it.
   */
  const go = useCallback(
    (q: { from: number } | { at: number }, { zoom = false, exact = false } = {}) => {
      client.call('rows', { source: d.id, view: '', ...q, count: 1 }, { channel: 'rows:diff-current' }).then(
        (page) => {
          if (!page.cells.length) return;
          const [where = '', , , kind = '', reason = ''] = page.cells[0]!;
          const a = page.start[0]!;
          const z = a + page.length[0]!;
          if (exact && 'at' in q && (q.at < a || q.at >= z)) return;
          aim.current = { diff: d.id, i: page.from };
          setCur({ diff: d.id, i: page.from, start: a, length: z - a, where, kind, reason });
          const st = store.getState();
          const v = st.view;
          if (zoom) {
            const pad = Math.max(d.clusterSize, Math.round((z - a) / 4));
            st.setView({ start: a - pad, end: z + pad });
          } else if (a < v.start || a >= v.end) {
            const len = v.end - v.start;
            st.setView({ start: a - len / 2, end: a + len / 2 });
          }
        },
        () => {},
      );
    },
    [client, d.id, d.clusterSize, store],
  );
  const step = (i: number) => {
    aim.current = { diff: d.id, i };
    go({ from: i });
  };
  const next = () => {
    if (d.count === 0) return;
    if (at() < 0) go({ at: store.getState().view.start });
    else step(Math.min(d.count - 1, at() + 1));
  };
  const prev = () => {
    if (d.count) step(at() < 0 ? d.count - 1 : Math.max(0, at() - 1));
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
      if (e.key === 'n' || e.key === 'j') next();
      else if (e.key === 'p' || e.key === 'k') prev();
      else if (e.key === 'z') go({ from: current?.i ?? 0 }, { zoom: true });
      else if (e.key === '0') store.getState().resetView();
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const highlight = useApp((s) => s.highlight);
  const focus = highlight?.kind === 'class' ? d.classes.indexOf(highlight.key) : -1;
  const look = useMemo(() => ({ ...diffLook(d.classes, p), focus }), [d.classes, p, focus]);
  const marks = useMemo(
    () => ({
      selectionColour: p.selection,
      cursorColour: p.cursor,
      backColour: p.empty,
      ...(current && { range: { start: current.start, end: current.start + current.length } }),
    }),
    [p, current],
  );
  const sides = useMemo(() => [d.a, d.b].map((s) => s.legend.map((l) => l.label)), [d.a, d.b]);
  const laneLook = useCallback(
    (lane: number) => (lane === 2 ? look : diffSideLook(d.classes, lane as 0 | 1, sides[lane]!, p)),
    [look, d.classes, sides, p],
  );
  const words = useMemo(() => diffMixWords(d), [d]);
  const exportAs = (format: ExportFormat, name: string, type: string) =>
    client.call('export', { source: d.id, view: '', format, release: 0 }).then(
      (x) => download(x.text, name, type),
      () => {},
    );
  const sideLine = (tag: string, x: DiffInfo['a']) => (
    <li>
      <strong>{tag}</strong> {x.title} <span className="muted">({x.provenance})</span> · {x.file},{' '}
      {x.viewWords}
      {x.error && <span className="diff-error"> · QEMU stops at: {x.error}</span>}
    </li>
  );
  return (
    <div className="diff-view-body">
      <ul className="diff-sides">
        {sideLine('A', d.a)}
        {sideLine('B', d.b)}
      </ul>
      <DiffLegend summary={d} palette={p} />
      <div className="diff-nav" role="toolbar" aria-label="Step through differences">
        <button type="button" onClick={prev} disabled={d.count === 0}>
          ← Previous <kbd>p</kbd>
        </button>
        <button type="button" onClick={next} disabled={d.count === 0}>
          Next <kbd>n</kbd> →
        </button>
        <button
          type="button"
          onClick={() => go({ from: current?.i ?? 0 }, { zoom: true })}
          disabled={d.count === 0}
        >
          Zoom to it <kbd>z</kbd>
        </button>
        <button type="button" onClick={() => store.getState().resetView()}>
          Whole image <kbd>0</kbd>
        </button>
        <span className="diff-current" aria-live="polite" data-testid="diff-current">
          {current
            ? `Difference ${current.i + 1} of ${d.count}: ${current.where} at ${hex(current.start)}, ${current.kind}`
            : `${d.count} difference${d.count === 1 ? '' : 's'}`}
        </span>
      </div>
      {current && (
        <p className="diff-why" data-testid="diff-why">
          {current.reason}
        </p>
      )}
      <GridView
        source={d}
        view=""
        look={look}
        marks={marks}
        keys="pan"
        onPick={(offset) => go({ at: offset }, { exact: true })}
        mixWords={words}
        testId="diff-canvas"
        captionId="diff-caption"
        label="Difference heatmap"
        roleDescription="difference heatmap"
        aside={<HighlightBar />}
      />
      <section className="tracks diff-lanes" aria-label="Difference lanes">
        <h2>Lanes</h2>
        <Lanes source={d} view="" lookOf={laneLook} testId="diff-lanes-canvas" maxLabel={190} />
        <ul className="diff-value-legend" aria-label="Lane colours">
          {[d.a, d.b].map((s, si) => (
            <li key={si === 0 ? 'a' : 'b'}>
              <strong>{si === 0 ? 'A' : 'B'}:</strong>{' '}
              {s.legend.map((l, i) => (
                <span key={l.value} className="diff-value">
                  <span
                    className="swatch"
                    style={{ background: sideColours(p, sides[si]!)[i] }}
                    aria-hidden="true"
                  />
                  {l.label}
                </span>
              ))}
            </li>
          ))}
        </ul>
      </section>
      <RowsTable
        source={d}
        view=""
        label="Differing extents"
        heading={(n) => (
          <>
            Differences <span className="muted">({n})</span>
          </>
        )}
        testId="diff-rows"
        rowHeight={48}
        visibleRows={5}
        rowClass="diff-row"
        cellClass={{ reason: 'diff-reason' }}
        swatch={(k) => colourOf(p, d.classes[k] ?? '')}
        {...(current && { current: { index: current.i } })}
        onPick={(i) => go({ from: i })}
        empty={<p className="muted">None: A and B agree everywhere they both reach.</p>}
      />
      <fieldset className="export diff-export">
        <legend>Export</legend>
        <button type="button" onClick={() => exportAs('diff-json', `${top}.diff.json`, 'application/json')}>
          Diff JSON
        </button>
        <button type="button" onClick={() => exportAs('diff-csv', `${top}.diff.csv`, 'text/csv')}>
          Diff CSV
        </button>
        {(['a', 'b'] as const).map((tag) =>
          d[tag].nativeFormats.map((f) => (
            <button
              key={`${tag}:${f}`}
              type="button"
              onClick={() =>
                exportAs(
                  `${tag}:${f}`,
                  `${top}.${tag.toUpperCase()}.${d[tag].interp}.${NATIVE[f].suffix}`,
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
