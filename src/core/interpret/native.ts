/**
 * An interpretation in the text its tool prints, so it can be pasted beside real output:
 * qemu-img map --output=json / human of the entry's release (reference §4.2, §4.4), nbdinfo
 * --map text / --json (§5.5). The proposals never had a server, so their nbdinfo text uses the
 * words of the RFC decoder rather than anything a released nbdinfo printed.
 */
import type { ChainStatus } from '../status/resolve.ts';
import type { CatalogueEntry, NativeFormat } from './catalogue.ts';
import type { Interpreted } from './interpretation.ts';
import { formatNbdinfo, formatNbdinfoJson } from './nbd.ts';
import { formatMapHuman, formatMapJson, NEWEST_RELEASE } from './qemuImgMap.ts';

export interface NativeText {
  readonly text: string;
  /** Set where the tool would stop with this message (exit status 1). */
  readonly error?: string;
}

export const NATIVE_FORMATS: readonly NativeFormat[] = [
  'qemu-img-map-json',
  'qemu-img-map-human',
  'nbdinfo',
  'nbdinfo-json',
];

/**
 * `fileName(layer)` is the name qemu-img prints for the file holding a layer's data (the CLI
 * resolves external data files as QEMU does); by default the layer's own name.
 */
export function formatNative(
  entry: CatalogueEntry,
  st: ChainStatus,
  format: NativeFormat,
  fileName: (layer: number) => string = (l) => st.chain.layers[l]?.name ?? '',
  computed?: Interpreted,
): NativeText {
  if (!entry.nativeFormats.includes(format)) {
    throw new RangeError(
      `${entry.id} has no ${format} form (it has: ${entry.nativeFormats.join(', ') || 'none'})`,
    );
  }
  const m = computed ?? entry.interpretation.compute(st);
  const stop = st.error ? { error: st.error.message } : {};
  switch (format) {
    case 'qemu-img-map-json':
      // qemu-img leaves the array unclosed on an error (§4.6): print nothing that could parse.
      return st.error
        ? { text: '', error: st.error.message }
        : { text: formatMapJson(m, entry.release ?? NEWEST_RELEASE) };
    case 'qemu-img-map-human': {
      const h = formatMapHuman(m, fileName);
      return h.error !== undefined ? { text: h.text, error: h.error } : { text: h.text, ...stop };
    }
    case 'nbdinfo':
      return { text: formatNbdinfo(m, entry.interpretation.label), ...stop };
    case 'nbdinfo-json':
      return { text: formatNbdinfoJson(m, entry.interpretation.label), ...stop };
  }
}
