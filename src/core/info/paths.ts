/**
 * How QEMU names a backing file in `qemu-img info` ("full-backing-filename"):
 * bdrv_make_absolute_filename() (block.c, 7.2) keeps an absolute name or one with a protocol
 * prefix, and otherwise prefixes the directory part of the referring image's name, exactly as
 * the user gave that name (so `top.qcow2` + `base.raw` is `base.raw`, not an absolute path).
 */

/** path_has_protocol() on POSIX: a ':' before the first '/'. */
export function pathHasProtocol(name: string): boolean {
  const m = /[:/]/.exec(name);
  return m !== null && m[0] === ':';
}

export function fullBackingFilename(imageName: string, backingName: string): string | undefined {
  if (backingName === '') return undefined;
  if (backingName.startsWith('/') || pathHasProtocol(backingName)) return backingName;
  const slash = imageName.lastIndexOf('/');
  return (slash < 0 ? '' : imageName.slice(0, slash + 1)) + backingName;
}
