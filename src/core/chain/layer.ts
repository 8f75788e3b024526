/** A layer of a backing chain: a qcow2 image or a raw file. */
import { FormatError, UnsupportedError } from '../errors.ts';
import type { ByteSource } from '../io/byteSource.ts';
import { readBitmaps, readBitmapTable } from '../qcow2/bitmaps.ts';
import { isQcow2Magic, type OpenMode } from '../qcow2/header.ts';
import { openQcow2, type Qcow2Image } from '../qcow2/image.ts';
import { readSnapshots } from '../qcow2/snapshots.ts';
import { openRaw, type RawImage } from '../raw/rawImage.ts';

export type Layer = Qcow2Image | RawImage;
export type LayerFormat = Layer['format'];

export const SUPPORTED_FORMATS: readonly LayerFormat[] = ['qcow2', 'raw'];

/**
 * Opens a source as `format`, or probes it when no format is given: QEMU's probe picks qcow2
 * for the qcow2 magic and falls back to raw (bdrv_probe_all(); other formats are not read here).
 */
export async function openLayer(source: ByteSource, format?: string, mode: OpenMode = {}): Promise<Layer> {
  if (format === undefined) {
    const magic = await source.read(0, 4);
    return isQcow2Magic(magic) ? openQcow2Checked(source, mode) : openRaw(source);
  }
  if (format === 'qcow2') {
    const magic = await source.read(0, 4);
    if (!isQcow2Magic(magic)) {
      throw new FormatError(
        { file: source.name, structure: 'header magic', offset: 0 },
        'Image is not in qcow2 format',
      );
    }
    return openQcow2Checked(source, mode);
  }
  if (format === 'raw') return openRaw(source);
  throw new UnsupportedError(
    { file: source.name, structure: 'format' },
    `format '${format}' is not supported (qcow2, raw)`,
  );
}

/**
 * Opens a qcow2 image and reads what QEMU reads when it opens one (qcow2_do_open()): the
 * snapshot table (qcow2_read_snapshots()) and the persistent bitmaps with their tables
 * (qcow2_load_dirty_bitmaps()). A damaged table there makes QEMU refuse the image even for
 * `qemu-img map`, which never uses them, so it is refused here too.
 */
async function openQcow2Checked(source: ByteSource, mode: OpenMode): Promise<Qcow2Image> {
  const img = await openQcow2(source, mode);
  // qemu-img check opens with BDRV_O_CHECK and reports the snapshot table's problems itself;
  // QEMU reads it before the bitmaps (qcow2_do_open()).
  if (!mode.check && img.header.nbSnapshots > 0) await readSnapshots(img);
  // qcow2_load_dirty_bitmaps() runs on every open, BDRV_O_CHECK too: qemu-img check refuses
  // a bad bitmap directory or table with "Could not open" and exit 1 (checked with 7.2).
  for (const bm of await readBitmaps(img)) {
    if (!bm.flags.inUse) await readBitmapTable(img, bm);
  }
  return img;
}
