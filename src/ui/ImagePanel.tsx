/**
 * The Image panel: the top layer's header fields, feature bits, header extensions, snapshots,
 * persistent bitmaps, qemu-img check findings, qemu-img measure and the host-file map, all
 * computed in the worker (worker/imageReport.ts) once the map is complete.
 */
import { useEffect, useMemo, useState } from 'react';
import { binarySize, hex } from '../core/format.ts';
import type { ImageReport } from '../protocol/results.ts';
import type { Caller } from '../state/loader.ts';
import { useApp, useServices } from './appContext.ts';
import { sizeAndBytes } from './format.ts';
import { HostMap } from './HostMap.tsx';
import type { Palette } from './palette.ts';
import { type RowsFeed, RowsTable } from './RowsTable.tsx';

/** A snapshot row's name for a `snapshot:NAME` view: its tag, else its ID (columns ID, Tag, ...). */
const tagOf = (cells: readonly string[]): string => cells[1] || cells[0]!;

/**
 * The snapshot table sits in the narrow image panel (about 340 px): its own column widths, and
 * cells that wrap onto a second line (a date at its space) instead of being cut to "202…".
 */
const SNAPSHOT_CELLS: Readonly<Record<string, string>> = {
  ID: 'snap-id',
  Tag: 'snap-tag',
  Date: 'snap-date',
  'Disk size': 'snap-size',
  'VM size': 'snap-size',
};

/** The image's internal snapshots as rows, a page at a time; a tag (or ID) locates its row. */
function snapshotRows(client: Caller, source: number): RowsFeed {
  return {
    key: `snapshots|${source}`,
    page: (from, count) => client.call('snapshotRows', { source, from, count }),
    locate: async (at, channel) => {
      const r = await client.call('snapshotRows', { source, at: String(at), count: 1 }, { channel });
      return r.cells.length ? r.from : -1;
    },
  };
}

export function ImagePanel({ palette }: { palette: Palette }) {
  const { client } = useServices();
  const openId = useApp((s) => (s.chain?.kind === 'image' && s.chain.complete ? s.chain.id : -1));
  const ready = openId >= 0;
  const [report, setReport] = useState<{ openId: number; r: ImageReport }>();
  /** The source the person asked to check although the check reads a lot (imageReport.ts AUTO_CHECK_BYTES). */
  const [checking, setChecking] = useState<number>();
  const [checkProgress, setCheckProgress] = useState<{ done: number; total: number }>();
  // The store's snapshot is the one the map shows (state/snapshot.ts maps it; the URL carries it).
  const snapshot = useApp((s) => s.snapshot);
  const setSnapshot = useApp((s) => s.setSnapshot);
  const snapshotFeed = useMemo(() => snapshotRows(client, openId), [client, openId]);
  useEffect(() => {
    if (!ready) return;
    let live = true;
    client.call('report', { source: openId }, { channel: 'report' }).then(
      (r) => live && setReport({ openId, r }),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [client, openId, ready]);
  useEffect(() => {
    if (checking === undefined || checking !== openId) return;
    let live = true;
    setCheckProgress(undefined);
    client
      .call(
        'report',
        { source: openId, check: true },
        { channel: 'report', onProgress: (_p, done, total) => live && setCheckProgress({ done, total }) },
      )
      .then(
        (r) => {
          if (!live) return;
          setReport({ openId, r });
          setChecking(undefined);
        },
        () => live && setChecking(undefined),
      );
    return () => {
      live = false;
    };
  }, [client, openId, checking]);
  if (!ready) return null;
  if (report?.openId !== openId) {
    return (
      <section className="panel image" aria-label="Image">
        <h2>Image</h2>
        <p className="muted">Checking the image…</p>
      </section>
    );
  }
  const r = report.r;
  const c = r.check;
  return (
    <section className="panel image" aria-label="Image">
      <h2>Image: {r.file}</h2>
      {c && (
        <p
          className={c.corruptions || c.checkErrors ? 'check bad' : c.leaks ? 'check warn' : 'check ok'}
          data-testid="check-summary"
        >
          {c.failure
            ? `Check failed: ${c.failure}`
            : c.corruptions || c.leaks || c.checkErrors
              ? `qemu-img check: ${c.corruptions} corruptions, ${c.leaks} leaked clusters${c.checkErrors ? `, ${c.checkErrors} check errors` : ''}`
              : 'qemu-img check: no errors were found on the image.'}
        </p>
      )}
      {r.checkDeferred && (
        <p className="check deferred" data-testid="check-summary">
          qemu-img check not run yet: it reads {binarySize(r.checkDeferred.bytes)} of metadata.{' '}
          {checking === openId ? (
            <span className="scan-progress">
              <progress
                value={checkProgress?.done ?? 0}
                max={checkProgress?.total || r.checkDeferred.bytes}
                aria-label="qemu-img check"
              />{' '}
              <span role="status">
                Checking: {binarySize(checkProgress?.done ?? 0)} of{' '}
                {binarySize(checkProgress?.total || r.checkDeferred.bytes)} read…
              </span>{' '}
              <button
                type="button"
                onClick={() => {
                  client.cancel('report');
                  setChecking(undefined);
                }}
              >
                Cancel the check
              </button>
            </span>
          ) : (
            <button type="button" onClick={() => setChecking(openId)}>
              Run qemu-img check
            </button>
          )}
        </p>
      )}
      {r.measure && <Measure m={r.measure} />}
      {r.format === 'qcow2' && (
        <details open>
          <summary>Host file map</summary>
          <HostMap source={openId} palette={palette} refresh={report} />
        </details>
      )}
      <details>
        <summary>Header</summary>
        <table className="kv">
          <tbody>
            {r.header.map((f) => (
              <tr key={f.name}>
                <th scope="row">{f.name}</th>
                <td>{f.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      <details open={r.features.length > 0}>
        <summary>Feature bits ({r.features.length})</summary>
        {r.features.length ? (
          <ul data-testid="feature-bits">
            {r.features.map((f) => (
              <li key={`${f.type}${f.bit}`}>
                {f.type} bit {f.bit}: {f.name}
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">No feature bits set.</p>
        )}
      </details>
      <details>
        <summary>Header extensions ({r.extensions.length})</summary>
        <ul>
          {r.extensions.map((e) => (
            <li key={e.offset}>
              {e.type} at {hex(e.offset)}, {e.length} bytes
            </li>
          ))}
        </ul>
      </details>
      {r.snapshotCount > 0 && (
        <details open>
          <summary>Snapshots ({r.snapshotCount})</summary>
          <p data-testid="map-source" aria-live="polite">
            The map shows{' '}
            {snapshot !== undefined ? `snapshot ${snapshot} (its L1 table)` : 'the active L1 table'}.
          </p>
          <button type="button" aria-pressed={snapshot === undefined} onClick={() => setSnapshot(undefined)}>
            View active
          </button>
          {/* Paged from the worker: 65,535 snapshots (a legal count) as rows froze the page. */}
          <RowsTable
            feed={snapshotFeed}
            label="Internal snapshots"
            heading={(n) => `Internal snapshots: ${n}`}
            testId="snapshots"
            rowHeight={38}
            visibleRows={7}
            cellClass={SNAPSHOT_CELLS}
            {...(snapshot !== undefined && { current: { at: snapshot } })}
            onPick={(_i, _s, _l, cells) => setSnapshot(tagOf(cells))}
            action={{
              column: 'Map',
              cell: (_i, cells) => (
                <button
                  type="button"
                  aria-pressed={snapshot === tagOf(cells)}
                  aria-label={`View ${tagOf(cells)}`}
                  tabIndex={-1}
                >
                  View
                </button>
              ),
            }}
          />
        </details>
      )}
      {r.bitmaps.length > 0 && (
        <details open>
          <summary>Bitmaps ({r.bitmaps.length})</summary>
          <ul data-testid="bitmaps">
            {r.bitmaps.map((b) => (
              <li key={b.name}>
                {b.name}: granularity {binarySize(b.granularity)}, flags {b.flags}
              </li>
            ))}
          </ul>
        </details>
      )}
      {c && c.messages.length > 0 && (
        <details open>
          <summary>Check findings ({c.messages.length + c.messagesDropped})</summary>
          <ul className="check-messages" data-testid="check-messages">
            {[...new Set(c.messages)].map((m) => (
              <li key={m}>{m}</li>
            ))}
          </ul>
        </details>
      )}
      {r.problems.map((p) => (
        <p key={p} className="error">
          {p}
        </p>
      ))}
    </section>
  );
}

/** qemu-img measure of the chain, -O qcow2 and -O raw, in binary units with the exact bytes. */
function Measure({ m }: { m: NonNullable<ImageReport['measure']> }) {
  return (
    <details open>
      <summary>qemu-img measure</summary>
      {'error' in m ? (
        <p className="error">qemu-img measure cannot size it: {m.error}</p>
      ) : (
        <>
          <div className="measure" data-testid="measure">
            <MeasureTable
              output="qcow2"
              rows={[
                ['required size', m.qcow2.required],
                ['fully allocated size', m.qcow2.fullyAllocated],
                ...(m.qcow2.bitmaps !== undefined ? [['bitmaps size', m.qcow2.bitmaps] as const] : []),
              ]}
            />
            <MeasureTable
              output="raw"
              rows={[
                ['required size', m.raw.required],
                ['fully allocated size', m.raw.fullyAllocated],
              ]}
            />
          </div>
          <p className="muted">
            What converting the chain as opened would take, as qemu-img measure prints it (default options: 64
            KiB clusters, 16-bit refcounts, compat 1.1). "bitmaps size": copying the top's persistent bitmaps
            with convert --bitmaps.
          </p>
        </>
      )}
    </details>
  );
}

/** One output format's sizes, as qemu-img measure prints them ("required size: N"). */
function MeasureTable({ output, rows }: { output: string; rows: readonly (readonly [string, number])[] }) {
  return (
    <table className="kv" data-testid={`measure-${output}`} aria-label={`qemu-img measure -O ${output}`}>
      <caption>-O {output}</caption>
      <tbody>
        {rows.map(([name, n]) => (
          <tr key={name}>
            <th scope="row">{name}</th>
            <td>{sizeAndBytes(n)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
