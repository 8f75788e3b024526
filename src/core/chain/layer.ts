/** A layer of a backing chain: a qcow2 image or a raw file. */
import { FormatError, UnsupportedError } from '../errors.ts';
import type { ByteSource } from '../io/byteSource.ts';
import { isQcow2Magic } from '../qcow2/header.ts';
import { openQcow2, type Qcow2Image } from '../qcow2/image.ts';
import { openRaw, type RawImage } from '../raw/rawImage.ts';

export type Layer = Qcow2Image | RawImage;
export type LayerFormat = Layer['format'];

export const SUPPORTED_FORMATS: readonly LayerFormat[] = ['qcow2', 'raw'];

/**
 * Opens a source as `format`, or probes it when no format is given: QEMU's probe picks qcow2
 * for the qcow2 magic and falls back to raw (bdrv_probe_all(); other formats are not read here).
 */
export async function openLayer(source: ByteSource, format?: string): Promise<Layer> {
  if (format === undefined) {
    const magic = await source.read(0, 4);
    return isQcow2Magic(magic) ? openQcow2(source) : openRaw(source);
  }
  if (format === 'qcow2') {
    const magic = await source.read(0, 4);
    if (!isQcow2Magic(magic)) {
      throw new FormatError(
        { file: source.name, structure: 'header magic', offset: 0 },
        'Image is not in qcow2 format',
      );
    }
    return openQcow2(source);
  }
  if (format === 'raw') return openRaw(source);
  throw new UnsupportedError(
    { file: source.name, structure: 'format' },
    `format '${format}' is not supported (qcow2, raw)`,
  );
}
