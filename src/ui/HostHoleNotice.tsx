/**
 * Where the map is, the host-hole truth (issue 11.3): when data of the chain may sit on host
 * holes (a raw layer, a preallocated qcow2), say that a copy cannot show them, what QEMU on the
 * original host would likely answer instead, and offer the content scan in one click with the
 * bytes it reads; while it reads, progress and cancel; once read, what it found, and a way back.
 */
import { useEffect, useState } from 'react';
import { binarySize } from '../core/format.ts';
import type { ChainInfo, HostHoleInfo } from '../protocol/source.ts';
import { cancelScan, showScanned, startScan } from '../state/scan.ts';
import { chosenView } from '../state/views.ts';
import { useApp, useServices } from './appContext.ts';
import { HOST_HOLES_SCAN, HOST_HOLES_WHY } from './hostHolesWords.ts';

const RULE_WORDS: Record<HostHoleInfo['exposures'][number]['rule'], string> = {
  'raw-hole': 'raw data',
  'qcow2-data': 'qcow2 data clusters',
  'past-eof': 'data clusters past the end of their file',
};

export function HostHoleNotice({ chain }: { chain: ChainInfo }) {
  const { store, client } = useServices();
  const view = useApp(chosenView);
  const scan = useApp((s) => s.scan);
  const [info, setInfo] = useState<{ key: string; info: HostHoleInfo }>();
  const key = `${chain.id}|${view}`;
  const ready = chain.kind === 'image' && chain.complete;
  useEffect(() => {
    if (!ready) return;
    client.call('hostHoles', { source: chain.id, view }, { channel: 'hostHoles' }).then(
      (h) => setInfo({ key, info: h }),
      () => {},
    );
  }, [client, chain.id, view, key, ready]);
  const h = info?.key === key ? info.info : undefined;
  const mine = scan?.view === view ? scan : undefined;
  // Said only where QEMU likely answers otherwise (a raw layer, a preallocated qcow2): any qcow2
  // data cluster could sit on a hole, but QEMU looks only when its heuristic fires.
  const likely = h?.exposures.some((x) => x.likely) ?? false;
  if (!ready || !h || (!likely && !mine)) return null;
  const sure = h.exposures.filter((x) => x.likely);
  const files = [...new Set(sure.map((x) => x.file))];
  const bytes = sure.reduce((n, x) => n + x.bytes, 0);
  const cost = `${binarySize(h.scan.bytes)}${h.scan.maxExtraBytes ? `, at most ${binarySize(h.scan.maxExtraBytes)} more` : ''}`;
  return (
    <section className="notice host-holes" aria-label="Host holes" data-testid="host-holes">
      {mine?.status === 'done' ? (
        <>
          <p>
            <strong>{mine.shown ? 'Content scanned.' : 'Content scanned, not shown.'}</strong>{' '}
            {mine.shown
              ? `The map shows what QEMU answers on files whose holes are exactly their all-zero 4 KiB blocks (read ${binarySize(mine.info.bytesRead)}).`
              : 'The map shows the files as a dense copy reads.'}
          </p>
          {mine.info.heuristics.length > 0 && (
            <ul className="muted">
              {mine.info.heuristics.map((x) => (
                <li key={x.name}>
                  {x.name}: QEMU's metadata-preallocation heuristic {x.fires ? 'fires' : 'does not fire'} (
                  {x.realClustersExact ? '' : 'at least '}
                  {x.realClusters} allocated clusters, threshold {x.threshold}, {x.refcounted} refcounted)
                </li>
              ))}
            </ul>
          )}
          <button type="button" onClick={() => showScanned(store, !mine.shown)}>
            {mine.shown ? 'Show without the scan' : 'Show the scan'}
          </button>
        </>
      ) : (
        <>
          <p>
            <strong>Host holes.</strong> QEMU on the original host likely answers differently for{' '}
            {binarySize(bytes)} of {files.join(', ')}, which a copy of the file cannot show.
          </p>
          <details>
            <summary>Why, where, and what QEMU would say</summary>
            <p>{HOST_HOLES_WHY}</p>
            <ul>
              {h.exposures.map((x) => (
                <li key={`${x.rule}:${x.file}`}>
                  <strong>
                    {x.file}, {RULE_WORDS[x.rule]} ({binarySize(x.bytes)}, {x.count}{' '}
                    {x.count === 1 ? 'range' : 'ranges'}):
                  </strong>{' '}
                  clusterscope says {x.clusterscopeSays}; QEMU {x.likely ? 'likely says' : 'may say'}{' '}
                  {x.qemuWould}. <span className="muted">Why: {x.why}.</span>
                </li>
              ))}
            </ul>
            <p className="muted">{HOST_HOLES_SCAN}.</p>
          </details>
          {mine?.status === 'running' ? (
            <div className="scan-progress">
              <progress
                value={mine.done}
                max={mine.total || 1}
                aria-label="Content scan"
                aria-valuetext={`${binarySize(mine.done)} of ${binarySize(mine.total || h.scan.bytes)} read`}
              />
              <span role="status">
                Reading {binarySize(mine.done)} of {binarySize(mine.total || h.scan.bytes)}…
              </span>{' '}
              <button type="button" onClick={() => cancelScan(store, client)}>
                Cancel the scan
              </button>
            </div>
          ) : (
            <p>
              <button type="button" onClick={() => void startScan(store, client, view)}>
                Scan contents (reads {cost})
              </button>{' '}
              {mine?.status === 'cancelled' && (
                <span role="status">Scan cancelled; the map is as before.</span>
              )}
              {mine?.status === 'failed' && <span role="alert">The scan failed: {mine.error}</span>}
            </p>
          )}
        </>
      )}
    </section>
  );
}
