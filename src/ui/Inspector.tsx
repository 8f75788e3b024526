/**
 * The selected cluster: every field, refcounts, each persistent bitmap's bit with its granule
 * and the flags QEMU goes by, and each interpretation's explanation (or, for a map without its
 * image, what each map says).
 */

import { useEffect, useRef } from 'react';
import { binarySize, hex } from '../core/format.ts';
import type { HitBitmap } from '../protocol/results.ts';
import { useApp } from './appContext.ts';
import { HitFields } from './Tooltip.tsx';

/** Pixels of the inspector brought into view after a selection, when it sits below the window. */
const PEEK_PX = 160;

export function Inspector() {
  const selection = useApp((s) => s.selection);
  const d = useApp((s) => s.detail);
  const select = useApp((s) => s.select);
  const ref = useRef<HTMLElement>(null);
  // On a narrow screen the inspector is under the map: a click scrolls its first lines into view.
  useEffect(() => {
    const el = ref.current;
    if (selection === undefined || !el) return;
    const below = el.getBoundingClientRect().top + PEEK_PX - window.innerHeight;
    if (below > 0) window.scrollBy({ top: below, behavior: 'smooth' });
  }, [selection]);
  if (selection === undefined) {
    return (
      <section className="panel inspector" aria-label="Inspector">
        <h2>Inspector</h2>
        <p className="muted">Click a cell (or focus the map and press Enter) to inspect its cluster.</p>
      </section>
    );
  }
  return (
    <section className="panel inspector" aria-label="Inspector" data-testid="inspector" ref={ref}>
      <h2>
        Cluster at {hex(selection)}{' '}
        <button
          type="button"
          className="close"
          aria-label="Close inspector"
          onClick={() => select(undefined)}
        >
          ×
        </button>
      </h2>
      {!d ? (
        <p className="muted">Reading…</p>
      ) : (
        <>
          <p aria-live="polite" className="inspector-summary">
            {d.summary}
          </p>
          {d.hostHole && (
            <p className="host-hole-mark" data-testid="inspector-host-hole">
              <strong>May sit on a host hole.</strong> QEMU on the original host{' '}
              {d.hostHole.likely ? 'likely says' : 'may say'} {d.hostHole.qemuWould}.{' '}
              <span className="muted">Why: {d.hostHole.why}. Scan contents (above the map) to see.</span>
            </p>
          )}
          <HitFields d={d} />
          {d.entries.length > 0 && <h3>L2 entries, top down to the owner</h3>}
          {d.entries.length > 0 && (
            <table>
              <thead>
                <tr>
                  <th scope="col">Layer</th>
                  <th scope="col">L1 / L2</th>
                  <th scope="col">Raw entry</th>
                  <th scope="col">Type</th>
                  <th scope="col">Host</th>
                  <th scope="col">Refcount</th>
                </tr>
              </thead>
              <tbody>
                {d.entries.map((e) => (
                  <tr key={e.layer}>
                    <td>{e.name}</td>
                    <td>
                      {e.l1Index} / {e.l2Index}
                      {e.l2TableOffset > 0 && <small> (table {hex(e.l2TableOffset)})</small>}
                    </td>
                    <td>
                      <code>{e.raw ?? '—'}</code>
                    </td>
                    <td>{e.type}</td>
                    <td>
                      {e.hostOffset !== undefined ? hex(e.hostOffset) : '—'}
                      {e.hostFile && <small> in {e.hostFile}</small>}
                    </td>
                    <td>{e.refcount ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {d.bitmaps && d.bitmaps.length > 0 && <Bitmaps list={d.bitmaps} />}
          <h3>Why</h3>
          <ul className="explain">
            {d.values.map((v) => (
              <li key={v.id}>
                <strong>{v.title}:</strong> {v.explain}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

/** What the granule of a bit holds: "192 KiB data, 64 KiB zero, 1.75 MiB absent". */
function granuleWords(b: HitBitmap): string {
  const g = b.granule;
  const parts = [
    g.data && `${binarySize(g.data)} data`,
    g.zero && `${binarySize(g.zero)} zero`,
    g.absent && `${binarySize(g.absent)} absent`,
    g.unknown && `${binarySize(g.unknown)} past the map`,
  ].filter(Boolean);
  return parts.join(', ') || '—';
}

/** Whether and how QEMU uses a bitmap, in its words. */
const usedAs = (b: HitBitmap): string =>
  [
    b.inconsistent ? 'inconsistent (in use): refused' : b.enabled ? 'enabled' : 'disabled',
    b.exported ? 'exported by -B' : 'shadowed by one above',
  ].join('; ');

function Bitmaps({ list }: { list: readonly HitBitmap[] }) {
  return (
    <>
      <h3>Persistent bitmaps</h3>
      <table data-testid="inspector-bitmaps">
        <thead>
          <tr>
            <th scope="col">Bitmap</th>
            <th scope="col">Bit</th>
            <th scope="col">Granule</th>
            <th scope="col">Flags</th>
            <th scope="col">QEMU</th>
            <th scope="col">Granule holds</th>
          </tr>
        </thead>
        <tbody>
          {list.map((b) => (
            <tr key={`${b.layer}:${b.name}`} data-bitmap={b.name}>
              <td>
                {b.name}
                <small> ({b.layerName})</small>
              </td>
              <td data-testid="bitmap-state">
                {b.state === 'beyond' ? 'clean (past its end)' : b.state}
                <small> #{b.bit}</small>
              </td>
              <td>
                [{hex(b.granuleStart)}, {hex(b.granuleEnd)}) <small>{binarySize(b.granularity)}</small>
              </td>
              <td>{b.flags.join(', ') || '—'}</td>
              <td>{usedAs(b)}</td>
              <td>{granuleWords(b)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ul className="explain">
        {list.map((b) => (
          <li key={`${b.layer}:${b.name}`}>{b.explain}</li>
        ))}
      </ul>
    </>
  );
}
