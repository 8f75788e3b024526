/**
 * "Export map" for the whole image, byte for byte as the chosen QEMU release prints it
 * (fields and the NBD hole rule change between releases); made in the worker, saved locally.
 */
import { useState } from 'react';
import {
  QEMU_5_2,
  QEMU_6_0,
  QEMU_6_1,
  QEMU_7_2,
  QEMU_8_2,
  QEMU_NEWEST,
  releaseName,
} from '../core/interpret/releases.ts';
import type { ExportFormat } from '../protocol/results.ts';
import { viewKey } from '../state/views.ts';
import { useApp, useServices } from './appContext.ts';
import { download } from './download.ts';

const FORMATS: readonly { format: ExportFormat; label: string; suffix: string }[] = [
  { format: 'qemu-img-map-json', label: 'qemu-img map JSON', suffix: '.map.json' },
  { format: 'nbdinfo-map', label: 'nbdinfo --map text', suffix: '.nbdinfo.txt' },
];

/** Releases where the output changes: 8.2 added "compressed", 6.1 "present", 6.0 the hole rule. */
const RELEASES: readonly [number, string][] = [
  [QEMU_NEWEST, `${releaseName(QEMU_NEWEST)} (newest)`],
  ...[QEMU_8_2, QEMU_7_2, QEMU_6_1, QEMU_6_0, QEMU_5_2].map((r): [number, string] => [r, releaseName(r)]),
];

export function ExportPanel() {
  const { client } = useServices();
  const source = useApp((s) => s.chain?.id);
  const view = useApp(viewKey);
  const top = useApp((s) => s.chain?.layers[0]?.name);
  const [release, setRelease] = useState(QEMU_NEWEST);
  if (!top || source === undefined) return null;
  return (
    <fieldset className="export">
      <legend>Export map</legend>
      <label>
        as QEMU
        <select value={release} onChange={(e) => setRelease(Number(e.currentTarget.value))}>
          {RELEASES.map(([r, label]) => (
            <option key={r} value={r}>
              {label}
            </option>
          ))}
        </select>
      </label>
      {FORMATS.map((f) => (
        <button
          key={f.format}
          type="button"
          onClick={() =>
            client.call('export', { source, view, format: f.format, release }).then(
              (r) => download(r.text, top + f.suffix),
              () => {},
            )
          }
        >
          {f.label}
        </button>
      ))}
    </fieldset>
  );
}
