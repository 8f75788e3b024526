/**
 * The content of two images compared, as `qemu-img compare A B` does (worker compare.ts over
 * core/compare): it first says how many guest bytes it will read (only where block status says
 * it must: nothing where both sides read as zero, one side where only it is allocated), reads
 * them on a click with progress and a Cancel, then prints qemu-img's own lines ("Images are
 * identical." / "Content mismatch at offset N!", exit status) and every differing range, which
 * qemu-img cannot; a range zooms the view to it.
 */
import { useEffect, useState } from 'react';
import { hex } from '../../core/format.ts';
import type { ComparePlan, CompareResult } from '../../protocol/results.ts';
import type { ChainInfo } from '../../protocol/source.ts';
import { CallFailed, Superseded } from '../../state/client.ts';
import { useServices } from '../appContext.ts';
import { rangeLabel, sizeAndBytes } from '../format.ts';

/** Differing ranges listed at most (the count and the bytes say the rest). */
const MAX_LISTED_RANGES = 200;

type Run =
  | { readonly key: string; readonly status: 'reading'; readonly done: number; readonly total: number }
  | { readonly key: string; readonly status: 'done'; readonly r: CompareResult }
  | { readonly key: string; readonly status: 'error'; readonly message: string }
  | { readonly key: string; readonly status: 'cancelled' };

const CHANNEL = 'compare';

export function ContentCompare({ a, b }: { a: ChainInfo; b: ChainInfo }) {
  const { client, store } = useServices();
  const key = `${a.id}|${b.id}`;
  const [plan, setPlan] = useState<{ key: string; p?: ComparePlan; error?: string }>();
  const [run, setRun] = useState<Run>();
  useEffect(() => {
    let live = true;
    client.call('comparePlan', { a: a.id, b: b.id }).then(
      (p) => live && setPlan({ key, p }),
      (e: unknown) => live && setPlan({ key, error: e instanceof CallFailed ? e.error.message : String(e) }),
    );
    return () => {
      live = false;
      client.cancel(CHANNEL);
    };
  }, [client, a.id, b.id, key]);
  const cur = run?.key === key ? run : undefined;
  const p = plan?.key === key ? plan : undefined;
  const start = () => {
    setRun({ key, status: 'reading', done: 0, total: 0 });
    client
      .call(
        'compare',
        { a: a.id, b: b.id },
        {
          channel: CHANNEL,
          onProgress: (_phase, done, total) => setRun({ key, status: 'reading', done, total }),
        },
      )
      .then(
        (r) => setRun({ key, status: 'done', r }),
        (e: unknown) =>
          setRun(
            e instanceof Superseded
              ? { key, status: 'cancelled' }
              : { key, status: 'error', message: e instanceof CallFailed ? e.error.message : String(e) },
          ),
      );
  };
  const nameA = a.layers[0]?.name ?? 'A';
  const nameB = b.layers[0]?.name ?? 'B';
  const r = cur?.status === 'done' ? cur.r : undefined;
  const listed = r ? Math.min(r.count, MAX_LISTED_RANGES) : 0;
  return (
    <section className="content-compare" aria-label="Content comparison" data-testid="content-compare">
      <h3>
        Content: qemu-img compare {nameA} {nameB}
      </h3>
      <p data-testid="compare-plan">
        {p?.p
          ? `Listing every difference reads ${sizeAndBytes(p.p.bytes[0])} of ${nameA} and ${sizeAndBytes(p.p.bytes[1])} of ${nameB}: guest data only where block status says it must (nothing where both read as zero, only the allocated side where one is).`
          : p?.error
            ? `It cannot be planned: ${p.error}`
            : 'Working out what it reads…'}
      </p>
      <div className="content-compare-actions">
        <button type="button" onClick={start} disabled={!p?.p || cur?.status === 'reading'}>
          Compare content
        </button>
        {cur?.status === 'reading' && (
          <>
            <progress
              max={Math.max(1, cur.total)}
              value={cur.done}
              aria-label="Guest data read"
              data-testid="compare-progress"
            />
            <span role="status">
              read {sizeAndBytes(cur.done)} of {sizeAndBytes(cur.total)}
            </span>
            <button type="button" onClick={() => client.cancel(CHANNEL)}>
              Cancel
            </button>
          </>
        )}
        {cur?.status === 'cancelled' && <span role="status">Cancelled: nothing more is read.</span>}
        {cur?.status === 'error' && (
          <span role="alert" className="diff-error">
            The comparison failed: {cur.message}
          </span>
        )}
      </div>
      {r && (
        <div data-testid="compare-result">
          <pre className="compare-output" data-testid="compare-output">
            {r.lines.join('\n') || r.error}
          </pre>
          <p>
            qemu-img compare exits {r.exit}. {r.count} differing range{r.count === 1 ? '' : 's'} (
            {sizeAndBytes(r.bytes)}
            ); read {sizeAndBytes(r.bytesRead[0])} of {nameA} and {sizeAndBytes(r.bytesRead[1])} of {nameB}.
          </p>
          {r.count > 0 && (
            <ol className="compare-ranges" data-testid="compare-ranges">
              {Array.from({ length: listed }, (_, i) => {
                const s = r.start[i]!;
                const e = s + r.length[i]!;
                return (
                  <li key={s}>
                    <button
                      type="button"
                      className="link-button"
                      onClick={() => {
                        const pad = Math.max(a.clusterSize, Math.round((e - s) / 4));
                        store.getState().setView({ start: s - pad, end: e + pad });
                      }}
                    >
                      {rangeLabel(s, e)}
                    </button>{' '}
                    <small>
                      offset {s}, {r.length[i]} bytes, sector {hex(s - (s % 512))}
                    </small>
                  </li>
                );
              })}
            </ol>
          )}
          {r.count > listed && (
            <p className="muted">
              The first {listed} of {r.count} ranges are listed.
            </p>
          )}
        </div>
      )}
    </section>
  );
}
