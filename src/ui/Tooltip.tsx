/** What one cell holds, near the pointer: range, indices, L2 entry, owner, every interpretation. */
import { binarySize, hex } from '../core/format.ts';
import type { Hit } from '../protocol/results.ts';
import { rangeLabel } from './format.ts';

export interface CellInfo {
  readonly start: number;
  readonly end: number;
  readonly clusters: number;
  /** "data 50%, zero 50%" for a cell that mixes. */
  readonly mix: string;
}

export function HitFields({ d }: { d: Hit }) {
  const e = d.entries.find((x) => x.layer === d.owner?.layer) ?? d.entries[0];
  return (
    <dl>
      <dt>Cluster</dt>
      <dd>
        {d.clusterIndex}
        {d.subclusterIndex !== undefined && `, subcluster ${d.subclusterIndex}`} ·{' '}
        {rangeLabel(d.clusterStart, d.clusterEnd)}
      </dd>
      {e && (
        <>
          <dt>L1 / L2 index</dt>
          <dd>
            L1[{e.l1Index}] L2[{e.l2Index}] in {e.name}
          </dd>
          <dt>L2 entry</dt>
          <dd>
            <code>{e.raw ?? '—'}</code> {e.type}
          </dd>
        </>
      )}
      {d.owner && (
        <>
          <dt>Host offset</dt>
          <dd>
            {d.hostOffset !== undefined ? hex(d.hostOffset) : 'none'}
            {d.hostFile && ` in ${d.hostFile}`}
          </dd>
          <dt>Owner</dt>
          <dd>
            {d.owner.name} (layer {d.owner.layer}) · {d.owner.kind} · {d.owner.flags}
          </dd>
        </>
      )}
      {d.values.map((v) => (
        <div key={v.id} className="interp">
          <dt>{v.title}</dt>
          <dd>{v.label}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Tooltip({
  cell,
  detail,
  x,
  y,
}: {
  cell: CellInfo;
  detail: Hit | undefined;
  x: number;
  y: number;
}) {
  return (
    <div className="tooltip" role="tooltip" style={{ left: x, top: y }}>
      <p className="tooltip-range">
        {rangeLabel(cell.start, cell.end)}
        {cell.clusters > 1 &&
          ` · ${cell.clusters} clusters of ${binarySize((cell.end - cell.start) / cell.clusters)}`}
      </p>
      {cell.mix && <p className="tooltip-mix">{cell.mix}</p>}
      {detail && detail.offset >= cell.start && detail.offset < cell.end && (
        <>
          {cell.clusters > 1 && <p className="tooltip-sub">First cluster of the cell:</p>}
          <HitFields d={detail} />
        </>
      )}
    </div>
  );
}
