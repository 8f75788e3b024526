/** The legend's highlight button for one class (coupled views: the heatmap and lanes fade the rest). */
import { useApp } from './appContext.ts';

/** Highlight (and un-highlight) the cells of one class. */
export function Find({ cls, label }: { cls: string; label: string }) {
  const highlight = useApp((s) => s.highlight);
  const setHighlight = useApp((s) => s.setHighlight);
  const on = highlight?.kind === 'class' && highlight.key === cls;
  return (
    <button
      type="button"
      className="find"
      aria-pressed={on}
      aria-label={`Highlight ${label}`}
      title={on ? 'Show every cell again' : `Fade every cell without ${label}`}
      onClick={() => setHighlight(on ? undefined : { kind: 'class', key: cls, label })}
    >
      ◎
    </button>
  );
}
