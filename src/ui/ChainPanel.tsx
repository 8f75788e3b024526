/** The backing chain, top to base, with the gap where a backing file is missing. */

import { binarySize } from '../core/format.ts';
import { useApp } from './appContext.ts';

export function ChainPanel() {
  const chain = useApp((s) => s.chain);
  if (!chain) return null;
  return (
    <section className="panel chain" aria-label="Backing chain">
      <h2>Chain</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">File</th>
            <th scope="col">Format</th>
            <th scope="col">Virtual size</th>
            <th scope="col">Backing file</th>
          </tr>
        </thead>
        <tbody>
          {chain.layers.flatMap((l, i) => [
            <tr key={l.name}>
              <td>{i === 0 ? 'top' : i}</td>
              <td>{l.name}</td>
              <td>
                {l.format}
                {l.version !== undefined && ` v${l.version}`}
                {l.clusterSize !== undefined && `, ${binarySize(l.clusterSize)} clusters`}
                {l.extendedL2 && ', extended L2'}
                {l.snapshots ? `, ${l.snapshots} snapshots` : ''}
              </td>
              <td>{binarySize(l.virtualSize)}</td>
              <td>{l.backingName ?? '—'}</td>
            </tr>,
            ...(chain.files ?? [])
              .filter((f) => f.layer === i && f.role === 'data-file')
              .map((f) => (
                <tr key={`${l.name}:data`} className="data-file" data-testid="chain-data-file">
                  <td>data</td>
                  <td>{f.name}</td>
                  <td colSpan={3}>
                    {f.words}
                    {f.size !== undefined && ` · ${binarySize(f.size)}`}
                  </td>
                </tr>
              )),
          ])}
          {chain.missingBacking && (
            <tr className="missing">
              <td>gap</td>
              <td colSpan={4} role="alert">
                Missing backing file <strong>{chain.missingBacking.name}</strong> (named by{' '}
                {chain.missingBacking.from}). Drop it together with the other files to see the full map; until
                then {chain.missingBacking.from} is shown as if opened with backing: null, so what the backing
                file would provide shows as absent.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {chain.probedRaw && (
        <p className="note" data-testid="probed-raw">
          {chain.probedRaw}.
        </p>
      )}
    </section>
  );
}
