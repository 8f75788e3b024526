/**
 * The map's tracks: one lane per chain layer, per interpretation and per persistent bitmap
 * (dirty over clean), on the view's guest axis.
 * Coupled with the other views: a click on a lane highlights the stretch of one class there
 * (outlined on the heatmap, its row marked) and selects its cluster; the heatmap's selection
 * and highlight are marked on the lanes; a legend class fades the rest here as there.
 */
import { useCallback, useMemo } from 'react';
import type { ChainInfo } from '../protocol/source.ts';
import { viewKey } from '../state/views.ts';
import { useApp, useServices } from './appContext.ts';
import { rangeLabel } from './format.ts';
import { Lanes } from './Lanes.tsx';
import { bitmapLaneLook, laneLook } from './looks.ts';
import type { Palette } from './palette.ts';
import { classWords } from './words.ts';

export function Tracks({ palette, chain }: { palette: Palette; chain: ChainInfo }) {
  const { store, client } = useServices();
  const view = useApp(viewKey);
  const highlight = useApp((s) => s.highlight);
  const selection = useApp((s) => s.selection);
  const focus = highlight?.kind === 'class' ? chain.classes.indexOf(highlight.key) : -1;
  const lookOf = useMemo(() => {
    const lane = { ...laneLook(chain.classes, palette), focus };
    const bitmap = { ...bitmapLaneLook(chain.classes, palette), focus };
    const bitmapLanes = new Set((chain.bitmaps ?? []).map((b) => b.lane));
    return (l: number) => (bitmapLanes.has(l) ? bitmap : lane);
  }, [chain.classes, chain.bitmaps, palette, focus]);
  const onPick = useCallback(
    (lane: number, offset: number) => {
      client.call('spans', { source: chain.id, view, offset }, { channel: 'spans:tracks' }).then(
        (spans) => {
          const s = spans[lane];
          const st = store.getState();
          st.select(offset - (offset % chain.clusterSize));
          if (!s) return;
          const name = chain.lanes[lane]?.name ?? `lane ${lane + 1}`;
          const what = classWords(chain.classes[s.cls] ?? '', chain.layers);
          st.setHighlight({
            kind: 'range',
            start: s.start,
            end: s.end,
            label: `${name}: ${what}, ${rangeLabel(s.start, s.end)}${s.cut ? ' (and further: cut short)' : ''}`,
          });
        },
        () => {},
      );
    },
    [client, store, chain, view],
  );
  const marks = {
    ...(highlight?.kind === 'range' && { range: highlight }),
    ...(selection !== undefined && { at: selection }),
  };
  const missing = chain.lanes.filter((l) => l.note);
  return (
    <section className="tracks" aria-label="Extent tracks">
      <h2>Tracks</h2>
      <Lanes
        source={chain}
        view={view}
        lookOf={lookOf}
        testId="tracks-canvas"
        maxLabel={170}
        marks={marks}
        onPick={onPick}
      />
      {missing.length > 0 && (
        <ul className="muted lane-notes">
          {missing.map((l) => (
            <li key={l.name}>
              {l.name}: {l.note}.
            </li>
          ))}
        </ul>
      )}
      <p className="muted">Drag across the lanes to zoom to a range; click a lane to highlight a stretch.</p>
    </section>
  );
}
