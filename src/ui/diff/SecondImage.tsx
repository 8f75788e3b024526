/**
 * Which image side B reads: the page's, or a second image (two different files, e.g. an image
 * and its later copy) picked here or dropped on the diff view. When a link names an image B
 * that is not open, this asks for its files by name.
 */

import { binarySize } from '../../core/format.ts';
import { secondFor } from '../../state/diff.ts';
import { closeSecondImage } from '../../state/secondImage.ts';
import { useApp, useServices } from '../appContext.ts';
import type { SecondOpenState } from './useSecondImage.ts';

const and = (names: readonly string[]) =>
  names.length <= 1 ? (names[0] ?? '') : `${names[0]} with ${names.slice(1).join(', ')}`;

export function SecondImage({
  state,
  open,
}: {
  state: SecondOpenState;
  open: (files: readonly File[]) => void;
}) {
  const { store } = useServices();
  const spec = useApp((s) => s.diff);
  const second = useApp((s) => secondFor(s.diff, s.second));
  const page = useApp((s) => s.chain?.layers[0]?.name ?? 'the page image');
  const wanted = spec?.bImage;
  let status: string;
  if (second) {
    status = `B reads ${and(second.layers.map((l) => l.name))} (${binarySize(second.length)}).`;
  } else if (wanted) {
    status = `This comparison's B reads ${and(wanted.files)} (${binarySize(wanted.size)}${
      wanted.fingerprint ? `, fingerprint ${wanted.fingerprint}` : ''
    }): open ${wanted.files.length > 1 ? 'those files' : 'that file'} to compare.`;
  } else
    status = `B reads the page's image (${page}). Open another image, or drop it here, to compare two files.`;
  const c = second;
  return (
    <fieldset className="diff-second" data-testid="diff-second" aria-label="Image B">
      <legend>Image B</legend>
      <p className="diff-second-status" data-needs-files={wanted && !second ? 'true' : 'false'}>
        {status}
      </p>
      {c?.missingBacking && (
        <p className="diff-error" role="alert">
          {c.missingBacking.from} names the backing file {c.missingBacking.name}, which was not among the
          files: B is read as if it had none there.
        </p>
      )}
      {c?.error && (
        <p className="diff-error" role="alert">
          QEMU stops reading image B at: {c.error.message}
        </p>
      )}
      <div className="diff-second-actions">
        <label className="file-picker">
          <span>{second || wanted ? 'Open another image B…' : 'Open image B…'}</span>
          <input
            type="file"
            multiple
            aria-label="Open image B (a second image with its backing files) to compare with the page's image"
            onChange={(e) => {
              const files = [...(e.currentTarget.files ?? [])];
              e.currentTarget.value = '';
              open(files);
            }}
          />
        </label>
        {(second || wanted) && (
          <button type="button" onClick={() => closeSecondImage(store)}>
            B reads the page's image
          </button>
        )}
      </div>
      {state.status === 'opening' && (
        <p role="status">
          Opening {state.names}: {state.phase} {state.pct > 0 ? `${state.pct}%` : ''}
        </p>
      )}
      {state.status === 'error' && (
        <div role="alert" className="diff-error">
          Image B could not be opened:
          <ul>
            {state.errors.map((e) => (
              <li key={`${e.file}:${e.message}`}>{e.message}</li>
            ))}
          </ul>
        </div>
      )}
    </fieldset>
  );
}
