/** The map's heatmap: the page's source in the one grid shell, coloured by the layer toggles. */
import { useCallback, useMemo } from 'react';
import type { ChainInfo } from '../protocol/source.ts';
import { viewKey } from '../state/views.ts';
import { useApp, useServices } from './appContext.ts';
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
  const p = PALETTES[theme];
  const focus = highlight?.kind === 'class' ? chain.classes.indexOf(highlight.key) : -1;
  const look = useMemo(
    () => ({ ...mapLook(chain.classes, layers, p), focus }),
    [chain.classes, layers, p, focus],
  );
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
