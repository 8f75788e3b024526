/**
 * A chain in words and as the list of files it reads: every layer, and beside a qcow2 layer
 * with an external data file (incompatible bit 2, reference §2.7) that data file, which holds
 * the layer's guest data while the qcow2 file holds only metadata. The page's chain panel, the
 * inspector (which file a host offset is in) and error messages take their file names from here.
 */
import { AUTOCLEAR_DATA_FILE_RAW } from '../qcow2/header.ts';
import type { Chain } from './chain.ts';
import type { Layer } from './layer.ts';

/** The file a layer's host offsets are offsets in: its external data file, or the layer itself. */
export const hostFileName = (layer: Layer): string =>
  layer.format === 'qcow2' && layer.dataFileName !== undefined ? layer.dataFileName : layer.name;

/** Whether a layer's host offsets lie in another file than the layer's own. */
export const hasExternalData = (layer: Layer): boolean =>
  layer.format === 'qcow2' && layer.dataFileName !== undefined;

/** " in data.raw (the external data file of top.qcow2)" for a layer with one, else "". */
export const inDataFileWords = (layer: Layer): string =>
  hasExternalData(layer) ? ` in ${hostFileName(layer)} (the external data file of ${layer.name})` : '';

export interface ChainFile {
  /** Index of the layer (0 = top) the file belongs to. */
  readonly layer: number;
  readonly role: 'top' | 'backing' | 'data-file';
  /** The name the image gives it (a backing or data file name) or the top's own name. */
  readonly name: string;
  readonly format: 'qcow2' | 'raw';
  /** Whether the file was opened: a data file the resolver did not find is named but absent. */
  readonly opened: boolean;
  /** Its size when opened. */
  readonly size?: number;
  /** One line for a chain panel. */
  readonly words: string;
}

/** The files a chain reads, top first, each layer's data file right after it. */
export function describeChain(chain: Chain): ChainFile[] {
  const out: ChainFile[] = [];
  const n = chain.layers.length;
  for (const [i, l] of chain.layers.entries()) {
    const role = i === 0 ? 'top' : 'backing';
    const where =
      i === 0
        ? 'the top'
        : i === n - 1
          ? `the base, backing file of ${chain.layers[i - 1]!.name}`
          : `backing file of ${chain.layers[i - 1]!.name}`;
    const keeps = hasExternalData(l) ? `; its guest data is in ${hostFileName(l)}` : '';
    const cut =
      i === n - 1 && chain.noBacking && l.format === 'qcow2' && l.backingName !== undefined
        ? `; opened without its backing file ${l.backingName} ("backing": null)`
        : '';
    out.push({
      layer: i,
      role,
      name: l.name,
      format: l.format,
      opened: true,
      size: l.source.size,
      words: `${l.name} (${l.format}, ${where}${keeps}${cut})`,
    });
    if (l.format === 'qcow2' && l.dataFileName !== undefined) {
      const src = chain.dataFiles?.get(i);
      const raw = (l.header.autoclearFeatures & AUTOCLEAR_DATA_FILE_RAW) !== 0n;
      out.push({
        layer: i,
        role: 'data-file',
        name: l.dataFileName,
        format: 'raw',
        opened: src !== undefined,
        ...(src && { size: src.size }),
        words: `${l.dataFileName} (external data file of ${l.name}${raw ? ', data_file_raw: it reads as the guest disk on its own' : ''}${
          src ? '' : '; not opened: maps need only the metadata, reading guest data needs it'
        })`,
      });
    }
  }
  return out;
}

/** The chain in one line: "top.qcow2 (qcow2, the top; its guest data is in data.raw), data.raw (...)". */
export const chainWords = (chain: Chain): string =>
  describeChain(chain)
    .map((f) => f.words)
    .join(', ');
