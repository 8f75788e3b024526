/**
 * The heatmap's persistent-bitmap layers: which bitmap (as qemu-nbd -B names it), its dirty
 * bytes as a bar over any fill, and the incremental-backup fill: of its dirty bytes, the data a
 * backup copies, the zeroes it writes (or skips) and what no layer holds, each with its bytes,
 * and the granule a dirty bit covers. A bitmap QEMU refuses is listed with why.
 */
import { binarySize } from '../core/format.ts';
import type { BitmapInfo, ChainInfo } from '../protocol/source.ts';
import { useApp } from './appContext.ts';
import { Find } from './Find.tsx';
import { sizeAndBytes } from './format.ts';
import { colourOf, type Palette } from './palette.ts';

/** The bitmaps a heatmap can show: those qemu-nbd -B exports whose bits are read. */
export const showable = (c: ChainInfo | undefined): BitmapInfo[] =>
  (c?.bitmaps ?? []).filter((b) => b.exported && !b.problem);

/** The bitmap the dirty and backup layers show: the store's choice if the chain has it, else the first. */
export function shownBitmap(c: ChainInfo | undefined, chosen: string | undefined): BitmapInfo | undefined {
  const list = showable(c);
  return list.find((b) => b.name === chosen) ?? list[0];
}

const state = (b: BitmapInfo) =>
  b.inconsistent ? 'in use: QEMU will not read it' : b.enabled ? 'enabled' : 'disabled';

export function BitmapLegend({ palette: p, chain }: { palette: Palette; chain: ChainInfo }) {
  const layers = useApp((s) => s.layers);
  const setLayers = useApp((s) => s.setLayers);
  const chosen = useApp((s) => s.bitmap);
  const setBitmap = useApp((s) => s.setBitmap);
  const all = chain.bitmaps ?? [];
  const b = shownBitmap(chain, chosen);
  if (!all.length) return null;
  const refused = all.filter((x) => x.problem);
  const k = b?.backup;
  const swatch = (key: string) => (
    <span className="swatch" style={{ background: colourOf(p, key) }} aria-hidden="true" />
  );
  return (
    <div className="bitmap-legend" data-testid="bitmap-legend">
      {b ? (
        <>
          <label>
            Bitmap{' '}
            <select
              value={b.name}
              aria-label="Bitmap the dirty and backup layers show"
              onChange={(e) => setBitmap(e.currentTarget.value)}
            >
              {showable(chain).map((x) => (
                <option key={`${x.layer}:${x.name}`} value={x.name}>
                  {x.name} ({binarySize(x.granularity)}, {state(x)}
                  {chain.layers.length > 1 ? `, ${x.layerName}` : ''})
                </option>
              ))}
            </select>
          </label>
          <ul>
            <li>
              <label title="a bar along the top of each cell: the share of its bytes whose bit is set (cells 6 px and wider)">
                <input
                  type="checkbox"
                  checked={layers.dirty}
                  onChange={() => setLayers({ ...layers, dirty: !layers.dirty })}
                />
                <span
                  className="swatch"
                  style={{
                    background: `linear-gradient(180deg, ${colourOf(p, 'dirty')} 30%, ${p.empty} 30%)`,
                  }}
                  aria-hidden="true"
                />
                Dirty in {b.name}
              </label>
              {(layers.dirty || layers.backup) && <Find cls="dirty" label={`dirty in ${b.name}`} />}
            </li>
            <li>
              <label title="fill each cell by what an incremental backup from this bitmap reads: its dirty bytes as data, zero or absent; clean bytes are not read">
                <input
                  type="checkbox"
                  checked={layers.backup}
                  onChange={() => setLayers({ ...layers, backup: !layers.backup, depth: false })}
                />
                <span
                  className="swatch"
                  style={{
                    background: `linear-gradient(90deg, ${p.data} 50%, ${p.zero} 50% 75%, ${p.empty} 75%)`,
                  }}
                  aria-hidden="true"
                />
                {`Incremental backup from ${b.name}`}
              </label>
            </li>
          </ul>
          {layers.backup && k && (
            <ul
              className="backup-legend"
              aria-label="What an incremental backup reads"
              data-testid="backup-legend"
            >
              <li data-testid="backup-data">
                {swatch('backup-data')} dirty data: {sizeAndBytes(k.data)}, copied
                <Find cls="backup-data" label="dirty data" />
              </li>
              <li data-testid="backup-zero">
                {swatch('backup-zero')} dirty zero: {sizeAndBytes(k.zero)}, written as zeroes or skipped
                <Find cls="backup-zero" label="dirty zero" />
              </li>
              <li data-testid="backup-absent">
                {swatch('backup-absent')} dirty absent: {sizeAndBytes(k.absent)}, in no layer (reads as zero)
                <Find cls="backup-absent" label="dirty, in no layer" />
              </li>
              <li>{swatch('clean')} clean: not read</li>
            </ul>
          )}
          <p className="bitmap-note" data-testid="bitmap-note">
            {k &&
              `${b.name}: ${sizeAndBytes(k.dirty)} dirty of ${sizeAndBytes(chain.length)}, of which ${sizeAndBytes(k.data)} data. `}
            One bit covers a {binarySize(b.granularity)} granule (granularity {b.granularity} bytes)
            {b.granularity > chain.clusterSize
              ? `, ${b.granularity / chain.clusterSize} clusters: a dirty granule is read whole, though only its data clusters (the fill at full zoom) hold what changed.`
              : '.'}{' '}
            {b.enabled
              ? 'Enabled (auto): QEMU records every write, write-zeroes and discard in it.'
              : 'Disabled: writes no longer change it.'}
          </p>
        </>
      ) : (
        <p className="bitmap-note">No bitmap here can be shown: QEMU reads none of them.</p>
      )}
      {chain.bitmapsOmitted !== undefined && (
        <p className="bitmap-note">
          {chain.bitmapsOmitted} more bitmaps are not shown or read (the first {all.length} are).
        </p>
      )}
      {refused.length > 0 && (
        <ul className="bitmap-refused">
          {refused.map((x) => (
            <li key={`${x.layer}:${x.name}`}>
              {x.name} ({x.flags.join(', ') || 'no flags'}): {x.problem}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
