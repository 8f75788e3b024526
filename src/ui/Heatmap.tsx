/** The map's heatmap: the page's source in the one grid shell, coloured by the layer toggles. */
import { useCallback, useMemo } from 'react';
import type { ChainInfo } from '../protocol/source.ts';
import { viewKey } from '../state/views.ts';
import { useApp, useServices } from './appContext.ts';
import { shownBitmap } from './BitmapLegend.tsx';
import { GridView } from './GridView.tsx';
import { HighlightBar } from './HighlightBar.tsx';
import { mapLook } from './looks.ts';
import { PALETTES, type ResolvedTheme } from './palette.ts';
import { mapMixWords } from './words.ts';

export function Heatmap({ theme, chain }: { theme: ResolvedTheme; chain: ChainInfo }) {
  const { store } = useServices();
  const layers = useApp((s) => s.layers);
  const selection = useApp((s) => s.selection);
  const firstBins = useApp((s) => s.firstBins);
  const view = useApp(viewKey);
  const quiet = useApp((s) => s.lesson !== undefined && !s.lesson.revealed);
  const highlight = useApp((s) => s.highlight);
  const chosen = useApp((s) => s.bitmap);
  // The dirty and backup layers ask the worker for the chosen bitmap's classes.
  const bitmap = layers.dirty || layers.backup ? shownBitmap(chain, chosen)?.name : undefined;
  const p = PALETTES[theme];
  const focus = highlight?.kind === 'class' ? chain.classes.indexOf(highlight.key) : -1;
  const look = useMemo(() => {
    // Without a bitmap to show, its layers show nothing.
    const shown = bitmap === undefined ? { ...layers, dirty: false, backup: false } : layers;
    return { ...mapLook(chain.classes, shown, p), focus };
  }, [chain.classes, layers, bitmap, p, focus]);
  const range = highlight?.kind === 'range' ? highlight : undefined;
  const marks = useMemo(
    () => ({
      selectionColour: p.selection,
      cursorColour: p.cursor,
      backColour: p.empty,
      ...(range && { range: { start: range.start, end: range.end } }),
    }),
    [p, range],
  );
  const words = useMemo(() => mapMixWords(chain.classes, chain.layers), [chain.classes, chain.layers]);
  const onBox = useCallback(
    (box: { width: number; maxHeight: number }) => store.getState().setGridBox(box),
    [store],
  );
  return (
    <GridView
      source={chain}
      view={view}
      {...(bitmap !== undefined && { bitmap })}
      look={look}
      marks={marks}
      {...(firstBins && { firstBins })}
      {...(selection !== undefined && { selected: selection })}
      keys="cursor"
      onPick={(offset) => store.getState().select(offset)}
      mixWords={words}
      testId="heatmap-canvas"
      captionId="heatmap-caption"
      label="Cluster heatmap"
      roleDescription="cluster heatmap"
      onBox={onBox}
      quiet={quiet}
      aside={<HighlightBar />}
    />
  );
}
