/** The map's tracks: one lane per chain layer and per interpretation, on the view's guest axis. */
import { useCallback } from 'react';
import type { ChainInfo } from '../protocol/source.ts';
import { viewKey } from '../state/views.ts';
import { useApp } from './appContext.ts';
import { Lanes } from './Lanes.tsx';
import { laneLook } from './looks.ts';
import type { Palette } from './palette.ts';

export function Tracks({ palette, chain }: { palette: Palette; chain: ChainInfo }) {
  const view = useApp(viewKey);
  const lookOf = useCallback(() => laneLook(chain.classes, palette), [chain.classes, palette]);
  const missing = chain.lanes.filter((l) => l.note);
  return (
    <section className="tracks" aria-label="Extent tracks">
      <h2>Tracks</h2>
      <Lanes source={chain} view={view} lookOf={lookOf} testId="tracks-canvas" maxLabel={170} />
      {missing.length > 0 && (
        <ul className="muted lane-notes">
          {missing.map((l) => (
            <li key={l.name}>
              {l.name}: {l.note}.
            </li>
          ))}
        </ul>
      )}
      <p className="muted">Drag across the lanes to zoom to a range.</p>
    </section>
  );
}
