/**
 * The diff legend: agreement and each kind of disagreement, with its colour and its bytes; which
 * file each side reads when they are two, and what was compared when their sizes differ.
 */
import { sizeNote } from '../../core/diff/sizes.ts';
import { binarySize } from '../../core/format.ts';
import type { DiffSummary } from '../../worker/diffProtocol.ts';
import { type DiffPalette, kindColour } from './diffPalette.ts';

/** The sides read two different files (B a second image, or another top). */
export const twoFiles = (s: DiffSummary): boolean => s.b.chain !== undefined || s.a.file !== s.b.file;

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

export function DiffLegend({ summary, palette }: { summary: DiffSummary; palette: DiffPalette }) {
  const s = summary;
  const sizes = sizeNote(s, binarySize);
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
              style={{ background: kindColour(palette, k.index) }}
              aria-hidden="true"
            />
            <span className="diff-kind-label">{k.label}</span>
            <span className="diff-bytes" title={`${k.bytes} bytes`}>
              {binarySize(k.bytes)}
            </span>
            <span className="muted"> in {plural(k.extents, 'extent')}</span>
          </li>
        ))}
      </ul>
    </fieldset>
  );
}
