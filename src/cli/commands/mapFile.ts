/**
 * clusterscope map-file [--output=summary|native] [--context=CONTEXT] [--qemu=X.Y] FILE
 * Reads a map another tool printed (qemu-img map --output=json or human, nbdinfo --map or
 * --map --json) as the page reads a dropped one (core/import/mapFile.ts), and says what it
 * holds; --output=native prints it back in its own format (the same text, if it is one that
 * tool printed). Bad input is one line naming the file, the line and the byte offset.
 */

import { LimitError } from '../../core/errors.ts';
import { decimal } from '../../core/format.ts';
import { type ImportedMap, MAX_MAP_FILE_BYTES, nbdLabel, parseMapFile } from '../../core/import/mapFile.ts';
import { AsciiWriter } from '../../core/interpret/asciiWriter.ts';
import { formatNbdinfo, formatNbdinfoJson } from '../../core/interpret/nbd.ts';
import { formatMapJsonBytes, MapHumanWriter } from '../../core/interpret/qemuImgMap.ts';
import { type CliIo, parseArgs, UsageError } from '../io.ts';
import { NodeFileSource } from '../nodeSource.ts';
import { oneFile, releaseOption } from './shared.ts';

const KIND_WORDS: Record<ImportedMap['kind'], string> = {
  'qemu-img-map-json': 'qemu-img map --output=json',
  'qemu-img-map-human': 'qemu-img map (human)',
  'nbdinfo-text': 'nbdinfo --map',
  'nbdinfo-json': 'nbdinfo --map --json',
};

/** The map in the text of the tool that printed it. */
export function nativeText(m: ImportedMap): Uint8Array {
  const e = m.extents;
  switch (m.kind) {
    case 'qemu-img-map-json':
      return formatMapJsonBytes(e, m.release, m.length);
    case 'qemu-img-map-human': {
      const names = m.fileNames ?? [];
      const hw = new MapHumanWriter(new AsciiWriter(), (layer) => names[layer] ?? '');
      hw.begin();
      for (let i = 0; i < e.count; i++)
        hw.entry(e.start[i]!, e.length[i]!, e.value[i]!, e.host[i]!, e.layer[i]!);
      return hw.w.result();
    }
    case 'nbdinfo-text':
      return new TextEncoder().encode(formatNbdinfo(e, (v) => nbdLabel(m.context ?? '', v)));
    case 'nbdinfo-json':
      return new TextEncoder().encode(formatNbdinfoJson(e, (v) => nbdLabel(m.context ?? '', v)));
  }
}

export async function runMapFile(args: string[], io: CliIo): Promise<number> {
  const { options, positionals } = parseArgs(args, new Set(['output', 'context', 'qemu']));
  const output = options.get('output') ?? 'summary';
  if (output !== 'summary' && output !== 'native')
    throw new UsageError(`--output must be summary or native, not '${output}'`);
  const context = options.get('context');
  if (context === true)
    throw new UsageError('--context needs a context name, e.g. --context=base:allocation');
  const path = oneFile(positionals, 'map-file');
  const release = options.has('qemu') ? releaseOption(options.get('qemu'), 0) : undefined;
  const src = await NodeFileSource.open(path);
  let text: string;
  try {
    if (src.size > MAX_MAP_FILE_BYTES) {
      throw new LimitError(
        { file: path, structure: 'map file' },
        `${src.size} bytes exceed ${MAX_MAP_FILE_BYTES} (MAX_MAP_FILE_BYTES)`,
      );
    }
    text = new TextDecoder().decode(await src.read(0, src.size));
  } finally {
    await src.close();
  }
  const m = parseMapFile(path, text, {
    ...(typeof context === 'string' && { context }),
    ...(release !== undefined && { release }),
  });
  if (output === 'native') {
    io.out(nativeText(m));
    return 0;
  }
  const what = [
    KIND_WORDS[m.kind],
    ...(m.fieldSet ? [`field set ${m.fieldSet}`] : []),
    ...(m.context ? [`context ${m.context}`] : []),
  ].join(', ');
  io.out(
    `${path}: ${what}; interpretation ${m.interpretationId}; ${m.extents.count} extents over ${decimal(m.length)} bytes\n`,
  );
  return 0;
}
