/** Typed engine errors and findings as text (file, structure, offset, detail), and dropped files left out, with why. */

import { hex } from '../core/format.ts';
import type { ErrorInfo, FindingInfo } from '../protocol/errors.ts';
import { useApp } from './appContext.ts';

function ErrorLine({ e }: { e: ErrorInfo }) {
  return (
    <li data-kind={e.kind}>
      <strong>{e.name}</strong> in <span className="file">{e.file}</span>: {e.structure}
      {e.offset !== undefined && <> at {hex(e.offset)}</>}: {e.detail}
      {e.hint && <p className="error-hint">{e.hint}.</p>}
    </li>
  );
}

function FindingLine({ f }: { f: FindingInfo }) {
  return (
    <li>
      {f.file}: {f.structure}
      {f.offset !== undefined && <> at {hex(f.offset)}</>}: {f.message}
    </li>
  );
}

export function ErrorPanel() {
  const openErrors = useApp((s) => s.openErrors);
  const chain = useApp((s) => s.chain);
  const errors = [...openErrors, ...(chain?.rejected ?? []), ...(chain?.error ? [chain.error] : [])];
  const findings = chain?.findings ?? [];
  const unused = chain?.unused ?? [];
  if (!errors.length && !findings.length && !unused.length) return null;
  return (
    <section className="panel errors" aria-label="Errors and findings">
      {errors.length > 0 && (
        <>
          <h2>Errors</h2>
          <ul role="alert">
            {errors.map((e) => (
              <ErrorLine key={e.message} e={e} />
            ))}
          </ul>
          {chain?.errorAt !== undefined && (
            <p>
              The map stops at {hex(chain.errorAt)}: QEMU refuses to read past this point; what parsed before
              it is shown.
            </p>
          )}
        </>
      )}
      {unused.length > 0 && (
        <>
          <h2>Dropped, not shown</h2>
          <ul data-testid="unused-files">
            {unused.map((u, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: two unused files may share a name
              <li key={i}>
                <strong>{u.name}</strong>: {u.why}
              </li>
            ))}
          </ul>
        </>
      )}
      {findings.length > 0 && (
        <>
          <h2>Findings</h2>
          <ul>
            {findings.map((f) => (
              <FindingLine key={`${f.file}${f.structure}${f.message}`} f={f} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
