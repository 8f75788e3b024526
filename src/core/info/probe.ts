/**
 * Why a file opened without a format was taken for a raw disk image, in words the CLI prints
 * and the page can show: qemu-img without -f probes the format (bdrv_probe_all()) and takes a
 * file without the qcow2 magic for raw, silently, even one named .qcow2; with -f qcow2 it
 * refuses it ("Image is not in qcow2 format"). clusterscope does both, and says which it did.
 */
import { QCOW_MAGIC } from '../qcow2/header.ts';

const hexBytes = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/** `head`: the file's first bytes (4 are enough). */
export function probedAsRawNote(name: string, head: Uint8Array): string {
  const magic = hexBytes(
    new Uint8Array([
      QCOW_MAGIC >>> 24,
      (QCOW_MAGIC >>> 16) & 255,
      (QCOW_MAGIC >>> 8) & 255,
      QCOW_MAGIC & 255,
    ]),
  );
  const starts =
    head.length === 0
      ? 'it is empty'
      : `it starts with ${hexBytes(head.subarray(0, 4))}, not the qcow2 magic ${magic} ("QFI\\xfb")`;
  return `${name} is read as a raw disk image: ${starts}, so probing takes it for raw, as qemu-img does without -f; with -f qcow2 (as qemu-img -f qcow2) it is refused: Image is not in qcow2 format`;
}
