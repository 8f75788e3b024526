/** Progress of the open in flight: L2 tables read out of the total, per layer. */
import { useApp } from './appContext.ts';

export function ProgressBar() {
  const load = useApp((s) => s.load);
  if (load.status !== 'loading') return null;
  const value = load.total > 0 ? load.done / load.total : undefined;
  return (
    <div className="progress">
      <label>
        {load.phase}
        {load.total > 0 && ` ${load.done}/${load.total}`}
        <progress max={1} {...(value !== undefined && { value })} />
      </label>
    </div>
  );
}
