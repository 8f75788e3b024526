/**
 * The sandbox: create a base and overlays in the page, apply qemu-io-like operations and
 * `qemu-img bitmap` actions, and watch the views follow (each change reopens the shown chain in
 * the worker). Images download as files QEMU opens (core's writer; writer.oracle.test.ts).
 */
import { useState } from 'react';
import { binarySize } from '../../core/format.ts';
import type { SandboxImageInfo, SandboxOp, SandboxState } from '../../protocol/results.ts';
import { openSource } from '../../state/loader.ts';
import { useServices } from '../appContext.ts';
import { downloadSandboxFile, runSandbox } from './openSource.ts';

type OpKind = 'write' | 'zero' | 'discard' | 'snapshot' | 'commit' | 'bitmap';
type BitmapActionKind = 'add' | 'remove' | 'clear' | 'enable' | 'disable' | 'merge';
const BITMAP_ACTIONS: readonly BitmapActionKind[] = ['add', 'remove', 'clear', 'enable', 'disable', 'merge'];

/** "64K", "1M", "0x10000" or plain bytes. */
export function parseSize(s: string): number {
  const m = /^\s*(0x[0-9a-f]+|\d+)\s*([kmg]?)i?b?\s*$/i.exec(s);
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase();
  return n * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1);
}

export function SandboxPanel() {
  const { store, client } = useServices();
  const [state, setState] = useState<SandboxState>({ images: [], log: [] });
  const [shown, setShown] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  // create form
  const [name, setName] = useState('base.qcow2');
  const [format, setFormat] = useState<'qcow2' | 'raw'>('qcow2');
  const [size, setSize] = useState('1M');
  const [version, setVersion] = useState<2 | 3>(3);
  const [extL2, setExtL2] = useState(false);
  const [backing, setBacking] = useState('');
  // operation form
  const [image, setImage] = useState('');
  const [op, setOp] = useState<OpKind>('write');
  const [offset, setOffset] = useState('0');
  const [length, setLength] = useState('64K');
  const [pattern, setPattern] = useState('0xab');
  const [unmap, setUnmap] = useState(false);
  const [snap, setSnap] = useState('s1');
  const [bmAction, setBmAction] = useState<BitmapActionKind>('add');
  const [bmName, setBmName] = useState('checkpoint1');
  const [bmGranularity, setBmGranularity] = useState('');
  const [bmDisabled, setBmDisabled] = useState(false);
  const [bmSource, setBmSource] = useState('');

  async function apply(ops: SandboxOp[], show?: string) {
    setError(undefined);
    try {
      const st = await runSandbox(client, ops);
      setState(st);
      if (st.error) setError(st.error.message);
      const top = show ?? shown;
      if (top && st.images.some((i) => i.name === top)) {
        setShown(top);
        await openSource(store, client, { kind: 'sandbox', top });
      }
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }

  function create() {
    const bytes = parseSize(size);
    if (!backing && !(bytes >= 0)) return setError(`size '${size}' is not a size (e.g. 1M, 256K, 65536)`);
    const o: SandboxOp = {
      op: 'create',
      name,
      format,
      ...(size.trim() !== '' && { size: bytes }),
      ...(format === 'qcow2' && { version, extendedL2: extL2 }),
      ...(format === 'qcow2' && backing && { backing }),
    };
    setImage(name);
    void apply([o], name);
  }

  function run() {
    const target = image || state.images.at(-1)?.name;
    if (!target) return setError('create an image first');
    const off = parseSize(offset);
    const len = parseSize(length);
    if ((op === 'write' || op === 'zero' || op === 'discard') && !(off >= 0 && len >= 0)) {
      return setError('offset and length are sizes (e.g. 64K, 0x10000)');
    }
    if (op === 'bitmap') {
      const g = bmGranularity.trim() === '' ? undefined : parseSize(bmGranularity);
      if (g !== undefined && !(g > 0))
        return setError(`granularity '${bmGranularity}' is not a size (e.g. 64K)`);
      const base = { op, image: target, name: bmName } as const;
      const b: SandboxOp =
        bmAction === 'add'
          ? {
              ...base,
              action: 'add',
              ...(g !== undefined && { granularity: g }),
              ...(bmDisabled && { disabled: true }),
            }
          : bmAction === 'merge'
            ? { ...base, action: 'merge', source: bmSource }
            : { ...base, action: bmAction };
      return void apply([b]);
    }
    const o: SandboxOp =
      op === 'write'
        ? { op, image: target, offset: off, length: len, pattern: Number(pattern) & 0xff }
        : op === 'zero'
          ? { op, image: target, offset: off, length: len, unmap }
          : op === 'discard'
            ? { op, image: target, offset: off, length: len }
            : op === 'snapshot'
              ? { op, image: target, name: snap }
              : { op, image: target };
    void apply([o]);
  }

  const qcow2s = state.images.filter((i) => i.format === 'qcow2');
  return (
    <section className="panel sandbox" aria-label="Sandbox">
      <h2>Sandbox</h2>
      <fieldset>
        <legend>Create an image</legend>
        <label>
          name <input value={name} onChange={(e) => setName(e.currentTarget.value)} size={12} />
        </label>
        <label>
          format{' '}
          <select value={format} onChange={(e) => setFormat(e.currentTarget.value as 'qcow2' | 'raw')}>
            <option value="qcow2">qcow2</option>
            <option value="raw">raw</option>
          </select>
        </label>
        <label>
          size <input value={size} onChange={(e) => setSize(e.currentTarget.value)} size={6} />
        </label>
        {format === 'qcow2' && (
          <>
            <label>
              compat{' '}
              <select value={version} onChange={(e) => setVersion(Number(e.currentTarget.value) as 2 | 3)}>
                <option value={3}>1.1 (v3)</option>
                <option value={2}>0.10 (v2)</option>
              </select>
            </label>
            <label>
              <input type="checkbox" checked={extL2} onChange={(e) => setExtL2(e.currentTarget.checked)} />{' '}
              extended L2
            </label>
            <label>
              backing{' '}
              <select value={backing} onChange={(e) => setBacking(e.currentTarget.value)}>
                <option value="">none</option>
                {state.images.map((i) => (
                  <option key={i.name} value={i.name}>
                    {i.name}
                  </option>
                ))}
              </select>
            </label>
          </>
        )}
        <button type="button" onClick={create}>
          Create
        </button>
      </fieldset>
      <fieldset disabled={state.images.length === 0}>
        <legend>Operation</legend>
        <label>
          on{' '}
          <select value={image} onChange={(e) => setImage(e.currentTarget.value)} aria-label="image">
            {state.images.map((i) => (
              <option key={i.name} value={i.name}>
                {i.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          op{' '}
          <select value={op} onChange={(e) => setOp(e.currentTarget.value as OpKind)} aria-label="operation">
            <option value="write">write -P (pattern)</option>
            <option value="zero">write -z (zeroes)</option>
            <option value="discard">discard</option>
            <option value="snapshot">snapshot -c</option>
            <option value="commit">commit</option>
            <option value="bitmap">qemu-img bitmap</option>
          </select>
        </label>
        {op === 'bitmap' && (
          <>
            <label>
              action{' '}
              <select
                value={bmAction}
                aria-label="bitmap action"
                onChange={(e) => setBmAction(e.currentTarget.value as BitmapActionKind)}
              >
                {BITMAP_ACTIONS.map((a) => (
                  <option key={a} value={a}>
                    --{a}
                  </option>
                ))}
              </select>
            </label>
            <label>
              bitmap{' '}
              <input
                value={bmName}
                aria-label="bitmap name"
                onChange={(e) => setBmName(e.currentTarget.value)}
                size={10}
              />
            </label>
            {bmAction === 'add' && (
              <>
                <label>
                  -g{' '}
                  <input
                    value={bmGranularity}
                    placeholder="default"
                    aria-label="granularity"
                    onChange={(e) => setBmGranularity(e.currentTarget.value)}
                    size={6}
                  />
                </label>
                <label>
                  <input
                    type="checkbox"
                    checked={bmDisabled}
                    onChange={(e) => setBmDisabled(e.currentTarget.checked)}
                  />{' '}
                  --disable
                </label>
              </>
            )}
            {bmAction === 'merge' && (
              <label>
                from{' '}
                <input
                  value={bmSource}
                  aria-label="source bitmap"
                  onChange={(e) => setBmSource(e.currentTarget.value)}
                  size={10}
                />
              </label>
            )}
          </>
        )}
        {(op === 'write' || op === 'zero' || op === 'discard') && (
          <>
            <label>
              offset <input value={offset} onChange={(e) => setOffset(e.currentTarget.value)} size={6} />
            </label>
            <label>
              length <input value={length} onChange={(e) => setLength(e.currentTarget.value)} size={6} />
            </label>
          </>
        )}
        {op === 'write' && (
          <label>
            pattern <input value={pattern} onChange={(e) => setPattern(e.currentTarget.value)} size={4} />
          </label>
        )}
        {op === 'zero' && (
          <label>
            <input type="checkbox" checked={unmap} onChange={(e) => setUnmap(e.currentTarget.checked)} /> -u
            (unmap)
          </label>
        )}
        {op === 'snapshot' && (
          <label>
            name <input value={snap} onChange={(e) => setSnap(e.currentTarget.value)} size={6} />
          </label>
        )}
        <button type="button" onClick={run}>
          Apply
        </button>
      </fieldset>
      {error && (
        <p role="alert" className="sandbox-error">
          {error}
        </p>
      )}
      {state.images.length > 0 && (
        <table className="sandbox-images">
          <tbody>
            {state.images.map((i: SandboxImageInfo) => (
              <tr key={i.name}>
                <td>{i.name}</td>
                <td>
                  {i.format}
                  {i.version !== undefined && ` v${i.version}`}
                  {i.extendedL2 && ', ext L2'}
                  {i.backing && ` → ${i.backing}`}
                </td>
                <td>{binarySize(i.fileSize)}</td>
                <td>
                  <button
                    type="button"
                    aria-pressed={shown === i.name}
                    onClick={() => {
                      setShown(i.name);
                      void openSource(store, client, { kind: 'sandbox', top: i.name });
                    }}
                  >
                    Show
                  </button>
                  <button
                    type="button"
                    onClick={() => void downloadSandboxFile(client, i.name).catch((e) => setError(String(e)))}
                  >
                    Download
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {qcow2s.length === 0 && state.images.length === 0 && (
        <p className="muted">Images live in this tab's worker; nothing is uploaded.</p>
      )}
      {state.log.length > 0 && (
        <pre className="sandbox-log" data-testid="sandbox-log">
          {state.log.join('\n')}
        </pre>
      )}
    </section>
  );
}
