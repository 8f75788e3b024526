/**
 * The diff legend: agreement and each kind of disagreement, with its colour and its bytes; which
 * file each side reads when they are two, and what was compared when their sizes differ.
 */
import { binarySize } from '../../core/format.ts';
import type { DiffInfo } from '../../protocol/source.ts';
import { Find } from '../Find.tsx';
import { colourOf, type Palette } from '../palette.ts';

/** The sides read two different files (B a second image, or another top). */
export const twoFiles = (s: DiffInfo): boolean => s.b.source !== s.a.source || s.a.file !== s.b.file;

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

export function DiffLegend({ summary, palette }: { summary: DiffInfo; palette: Palette }) {
  const s = summary;
  const sizes = s.sizeNote;
  return (
    <fieldset className="legend diff-legend" data-testid="diff-legend">
      <legend>Difference</legend>
      <p className="diff-total">
        {s.count === 0
          ? `A and B agree on all ${binarySize(s.overlap)}.`
          : `${binarySize(s.bytesDiffering)} differ in ${plural(s.count, 'extent')}; ${binarySize(s.bytesAgreeing)} agree.`}
      </p>
      {twoFiles(s) && (
        <p className="diff-files" data-testid="diff-files">
          A reads <strong>{s.a.file}</strong>, B reads <strong>{s.b.file}</strong>.
        </p>
      )}
      {sizes && (
        <p className="diff-sizes" data-testid="diff-sizes">
          {sizes}
        </p>
      )}
      <ul>
        <li data-kind="agree">
          <span className="swatch" style={{ background: palette.agree }} aria-hidden="true" />
          <span className="diff-kind-label">A and B agree</span>
          <span className="diff-bytes" title={`${s.bytesAgreeing} bytes`}>
            {binarySize(s.bytesAgreeing)}
          </span>
        </li>
        {s.kinds.map((k) => (
          <li key={k.id} data-kind={k.id}>
            <span
              className="swatch"
              style={{ background: colourOf(palette, `kind-${k.index}`) }}
              aria-hidden="true"
            />
            <span className="diff-kind-label">{k.label}</span>
            {k.factsLabel && <span className="diff-kind-facts muted">({k.factsLabel})</span>}
            <span className="diff-bytes" title={`${k.bytes} bytes`}>
              {binarySize(k.bytes)}
            </span>
            <span className="muted"> in {plural(k.extents, 'extent')}</span>
            <Find cls={`kind-${k.index}`} label={k.label} />
          </li>
        ))}
      </ul>
      {s.notes.length > 0 && (
        <ul className="diff-notes" data-testid="diff-notes" aria-label="What was compared">
          {s.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
