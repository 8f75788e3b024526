/**
 * Layer toggles, each with its legend swatch; depth colours are named by file. Each class has a
 * highlight button (coupled views): pressed, the heatmap and the lanes fade every cell without it.
 */
import { LAYER_IDS, LAYER_LABELS, type LayerId } from '../state/layers.ts';
import { useApp } from './appContext.ts';
import { BitmapLegend } from './BitmapLegend.tsx';
import { Find } from './Find.tsx';
import { depthColour, type Palette } from './palette.ts';

const DESCRIPTIONS: Readonly<Record<LayerId, string>> = {
  data: 'block status DATA: read from host storage',
  zero: 'block status ZERO, owned by some layer',
  absent: 'found in no layer; reads as zero (qemu-img map "present": false)',
  depth: 'colour each cell by the layer that owns it (qemu:allocation-depth)',
  top: 'bar: share of the cell allocated in the top layer itself',
  hole: 'corner mark: NBD_STATE_HOLE as qemu-nbd 6.0+ reports it (not DATA)',
  compressed: 'hatch: compressed clusters',
  dirty: "bar along the top: the chosen persistent bitmap's dirty bytes",
  backup: 'fill: what an incremental backup from the chosen bitmap reads',
};

/** Layers the bitmap section toggles (with the bitmap they show), not the list below. */
const BITMAP_LAYERS: readonly LayerId[] = ['dirty', 'backup'];

/** What the depth fill does to the content layers (said on the legend, not left to be found out). */
const UNDER_DEPTH: Partial<Record<LayerId, string>> = {
  data: 'with allocation depth on, every allocated cell takes its layer colour: data is the solid fill',
  zero: 'with allocation depth on, zero shows as dots over the layer colour (cells 6 px and wider)',
};

/** The dots zero wears over a depth fill (paint.ts overlays). */
const dots = (p: Palette, under: string) =>
  `radial-gradient(circle, ${p.zero} 0 2px, ${p.top} 2px 2.8px, transparent 3px) 0 0 / 6px 6px, ${under}`;

function Swatch({ id, p, depth }: { id: LayerId; p: Palette; depth: boolean }) {
  const style: React.CSSProperties =
    id === 'data'
      ? { background: depth ? p.depth[0] : p.data }
      : id === 'zero'
        ? { background: depth ? dots(p, p.depth[0] ?? p.empty) : p.zero }
        : id === 'absent'
          ? { background: p.absent }
          : id === 'depth'
            ? { background: `linear-gradient(90deg, ${p.depth.slice(0, 3).join(', ')})` }
            : id === 'top'
              ? { background: `linear-gradient(0deg, ${p.top} 25%, ${p.empty} 25%)` }
              : id === 'hole'
                ? { background: `linear-gradient(135deg, ${p.hole} 35%, ${p.empty} 35%)` }
                : { background: `repeating-linear-gradient(135deg, ${p.hatch} 0 2px, ${p.empty} 2px 6px)` };
  return <span className="swatch" style={style} aria-hidden="true" />;
}

/** The class key each layer's highlight button finds (depth has one per layer, below). */
const LAYER_CLASS: Partial<Record<LayerId, string>> = {
  data: 'data',
  zero: 'zero',
  absent: 'absent',
  top: 'top',
  hole: 'hole',
  compressed: 'compressed',
};

export function Legend({ palette }: { palette: Palette }) {
  const layers = useApp((s) => s.layers);
  const toggle = useApp((s) => s.toggleLayer);
  const setLayers = useApp((s) => s.setLayers);
  const chain = useApp((s) => s.chain);
  const chainLayers = chain?.layers ?? [];
  return (
    <fieldset className="legend">
      <legend>Layers</legend>
      <ul>
        {LAYER_IDS.filter((id) => !BITMAP_LAYERS.includes(id)).map((id) => (
          <li key={id}>
            <label title={(layers.depth && UNDER_DEPTH[id]) || DESCRIPTIONS[id]}>
              <input
                type="checkbox"
                checked={layers[id]}
                disabled={id === 'data' && layers.depth}
                onChange={() =>
                  id === 'depth' && !layers.depth
                    ? setLayers({ ...layers, depth: true, backup: false })
                    : toggle(id)
                }
                aria-describedby={layers.depth && UNDER_DEPTH[id] ? `layer-under-depth-${id}` : undefined}
              />
              <Swatch id={id} p={palette} depth={layers.depth} />
              {LAYER_LABELS[id]}
              {layers.depth && UNDER_DEPTH[id] && (
                <span className="layer-note" id={`layer-under-depth-${id}`}>
                  {id === 'data' ? ' (solid layer colour)' : ' (dots over the layer colour)'}
                </span>
              )}
            </label>
            {LAYER_CLASS[id] && <Find cls={LAYER_CLASS[id]} label={LAYER_LABELS[id].toLowerCase()} />}
          </li>
        ))}
      </ul>
      {layers.depth && (
        <ul className="depth-legend" aria-label="Allocation depth colours">
          {chainLayers.map((l, i) => (
            <li key={l.name}>
              <span
                className="swatch"
                style={{ background: depthColour(palette, i + 1) }}
                aria-hidden="true"
              />
              {i + 1}: {l.name}
              <Find cls={`depth-${i + 1}`} label={`owned by ${l.name}`} />
            </li>
          ))}
          <li>
            <span className="swatch" style={{ background: palette.absent }} aria-hidden="true" />
            0: absent
            <Find cls="depth-0" label="in no layer (absent)" />
          </li>
          <li className="depth-note">
            Solid: data in that layer. Dotted: zero in that layer (dots need cells 6 px wide; zoom in). The
            content colours come back when depth is off.
          </li>
        </ul>
      )}
      {chain && <BitmapLegend palette={palette} chain={chain} />}
      <p className="legend-error">
        <span className="swatch" style={{ background: palette.error }} aria-hidden="true" /> Unreadable (QEMU
        refuses: corrupt metadata)
      </p>
    </fieldset>
  );
}
