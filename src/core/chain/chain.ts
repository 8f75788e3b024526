/**
 * Backing chains: layers from the top down to the base, matched by backing file name.
 * Where the names come from is the caller's business (files dropped in the browser, paths
 * resolved like QEMU's path_combine() in the CLI), so this module only walks and checks.
 */
import { IoError, LimitError } from '../errors.ts';
import type { ByteSource } from '../io/byteSource.ts';
import { MAX_CHAIN_DEPTH } from '../limits.ts';
import { EXT_DATA_FILE } from '../qcow2/extensions.ts';
import type { OpenMode } from '../qcow2/header.ts';
import { type Layer, openLayer } from './layer.ts';

export interface Chain {
  /** Top first; layers[i + 1] is the backing file of layers[i]. */
  readonly layers: readonly Layer[];
  /** True when the chain was cut below the top on purpose (`backing: null`). */
  readonly noBacking: boolean;
  /** External data files (incompatible bit 2), by layer index, where the resolver found them. */
  readonly dataFiles?: ReadonlyMap<number, ByteSource>;
}

/**
 * A file the chain needs was not found: QEMU's own sentence as the detail, plus which file to
 * supply and what it is, so a page can say "drop data.raw too".
 */
export class MissingFileError extends IoError {
  /** What to do about it, in words. */
  readonly hint: string;
  constructor(
    where: ConstructorParameters<typeof IoError>[0],
    detail: string,
    /** The name the image gives the missing file, and what it is. */
    readonly missing: string,
    readonly role: 'backing file' | 'data file',
  ) {
    super(where, detail);
    this.hint =
      role === 'data file'
        ? `${where.file} keeps its guest data in the external data file ${missing}: supply ${missing} with it`
        : `${where.file} names the backing file ${missing}: supply ${missing} with it`;
  }
}

export interface BackingResolver {
  /**
   * Finds the backing file `name` named by layer `from`. Returns the source and a key that
   * identifies the file (a resolved path, a File identity) for loop detection, or undefined
   * when it is not there; and the layer, when the caller opened it already: it is used if it was
   * opened as the format `from` names (a page opens every dropped file before it matches them,
   * and opening each twice held every L1 table twice).
   */
  resolve(name: string, from: Layer): Promise<{ source: ByteSource; key: string; layer?: Layer } | undefined>;
  /**
   * Finds the external data file `name` of layer `from`. A resolver without this method (an
   * in-memory test, a map-only view) leaves data files unopened: maps still work, since
   * qcow2 metadata alone gives the offsets.
   */
  dataFile?(name: string, from: Layer): Promise<ByteSource | undefined>;
}

export interface OpenChainOptions {
  /** Format of the top image; probed when absent. */
  readonly format?: string;
  /** Open only the top, as QEMU does with `"backing": null`. */
  readonly noBacking?: boolean;
  /** Identity of the top, for loop detection. */
  readonly topKey?: string;
  /** The top, opened already as `format` (a page opens every dropped file before it matches them). */
  readonly topLayer?: Layer;
  /** How the top is opened: `check` as qemu-img check opens it (BDRV_O_CHECK). */
  readonly mode?: OpenMode;
  /**
   * Why the chain is opened, which decides what QEMU opens with it and how it words a missing
   * file. `io` (map, check, NBD; the default): the image with its backing file and external
   * data file, a missing backing file is "Could not open backing file: Could not open 'X': ...".
   * `info` (qemu-img info opens each image of the chain on its own, BDRV_O_NO_BACKING |
   * BDRV_O_NO_IO): no data file is opened, and a missing backing file is "Could not open 'X':
   * Could not open 'X': ...".
   */
  readonly purpose?: 'io' | 'info';
}

export async function openChain(
  top: ByteSource,
  resolver: BackingResolver,
  opts: OpenChainOptions = {},
): Promise<Chain> {
  const layers: Layer[] = [opts.topLayer ?? (await openLayer(top, opts.format, opts.mode))];
  const forInfo = opts.purpose === 'info';
  const noBacking = opts.noBacking === true;
  const seen = new Set<string>([opts.topKey ?? top.name]);
  const dataFiles = new Map<number, ByteSource>();
  for (;;) {
    const cur = layers[layers.length - 1]!;
    if (cur.format === 'qcow2' && cur.dataFileName !== undefined && resolver.dataFile && !forInfo) {
      // qcow2_do_open() opens the data file with the image: a missing one fails the open.
      const df = await resolver.dataFile(cur.dataFileName, cur);
      if (!df) {
        const ext = cur.extensions.all.find((x) => x.type === EXT_DATA_FILE);
        throw new MissingFileError(
          { file: cur.name, structure: 'data file header extension', offset: ext?.offset },
          `Could not open '${cur.dataFileName}': No such file or directory`,
          cur.dataFileName,
          'data file',
        );
      }
      dataFiles.set(layers.length - 1, df);
    }
    if (noBacking || cur.format !== 'qcow2' || cur.backingName === undefined) break;
    const where = { file: cur.name, structure: 'backing file name', offset: cur.header.backingFileOffset };
    if (layers.length >= MAX_CHAIN_DEPTH) throw chainTooDeep(cur);
    const found = await resolver.resolve(cur.backingName, cur);
    if (!found) {
      const missing = `Could not open '${cur.backingName}': No such file or directory`;
      throw new IoError(
        where,
        forInfo
          ? `Could not open '${cur.backingName}': ${missing}`
          : `Could not open backing file: ${missing}`,
      );
    }
    if (seen.has(found.key)) {
      throw new IoError(where, `backing file '${cur.backingName}' is already in the chain (loop)`);
    }
    seen.add(found.key);
    const given = found.layer;
    layers.push(
      given && (cur.backingFormat === undefined || given.format === cur.backingFormat)
        ? given
        : await openLayer(found.source, cur.backingFormat),
    );
  }
  return { layers, noBacking, dataFiles };
}

/** The refusal of a chain deeper than MAX_CHAIN_DEPTH, at `layer`'s backing file name. */
export function chainTooDeep(layer: Layer): LimitError {
  const where = {
    file: layer.name,
    structure: 'backing file name',
    offset: layer.format === 'qcow2' ? layer.header.backingFileOffset : undefined,
  };
  return new LimitError(where, `backing chain deeper than ${MAX_CHAIN_DEPTH} layers (MAX_CHAIN_DEPTH)`);
}

/** Closes every layer's source (file handles in Node; a no-op for Blobs). */
export async function closeChain(chain: Chain): Promise<void> {
  await Promise.all([
    ...chain.layers.map((l) => l.source.close?.()),
    ...[...(chain.dataFiles?.values() ?? [])].map((s) => s.close?.()),
  ]);
}
