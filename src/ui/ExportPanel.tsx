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
import type { ExportFormat } from '../worker/protocol.ts';
import { useApp, useServices } from './appContext.ts';

const FORMATS: readonly { format: ExportFormat; label: string; suffix: string }[] = [
  { format: 'qemu-img-map-json', label: 'qemu-img map JSON', suffix: '.map.json' },
  { format: 'nbdinfo-map', label: 'nbdinfo --map text', suffix: '.nbdinfo.txt' },
];

/** Releases where the output changes: 8.2 added "compressed", 6.1 "present", 6.0 the hole rule. */
const RELEASES: readonly [number, string][] = [
  [QEMU_NEWEST, `${releaseName(QEMU_NEWEST)} (newest)`],
  ...[QEMU_8_2, QEMU_7_2, QEMU_6_1, QEMU_6_0, QEMU_5_2].map((r): [number, string] => [r, releaseName(r)]),
];

function save(text: string, name: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function ExportPanel() {
  const { client } = useServices();
  const openId = useApp((s) => s.openId);
  const top = useApp((s) => s.chain?.layers[0]?.name);
  const [release, setRelease] = useState(QEMU_NEWEST);
  if (!top) return null;
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
            client.exportMap(openId, f.format, release).then(
              (t) => save(t, top + f.suffix),
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
