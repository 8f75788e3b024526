/**
 * What the coupled views highlight, in words, with a way to clear it: a table row or a lane's
 * stretch (outlined on the heatmap, banded on the lanes, its row marked) or a legend class (the
 * rest faded). A polite live region, so picking in one view is heard as well as seen.
 */
import { useApp } from './appContext.ts';

export function HighlightBar() {
  const highlight = useApp((s) => s.highlight);
  const setHighlight = useApp((s) => s.setHighlight);
  return (
    <p className="highlight-bar" role="status" data-testid="highlight-bar">
      {highlight && (
        <>
          <span>
            Highlighted: {highlight.label}
            {highlight.kind === 'class' ? ' (other cells faded)' : ''}
          </span>{' '}
          <button type="button" className="link-button" onClick={() => setHighlight(undefined)}>
            Clear highlight
          </button>
        </>
      )}
    </p>
  );
}
