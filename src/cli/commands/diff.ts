/**
 * clusterscope diff: where two interpretations of one image (or one interpretation of two
 * images) disagree, with the reason in words per differing extent; and, with --format, one
 * interpretation alone in its tool's native text, to paste beside that tool's output.
 *
 *   clusterscope diff --a=INTERP[@VIEW] [--b=[INTERP][@VIEW]] [--compare=meaning|values] [--output=text|json|csv] [--no-reasons] FILE [FILE2]
 *   clusterscope diff --a=INTERP[@VIEW] --format=FORMAT FILE
 *   clusterscope diff --list
 *
 * INTERP is a catalogue id (core/interpret/catalogue.ts) or a persistent bitmap's
 * (`nbd-dirty-bitmap-NAME`, core/interpret/ids.ts: the bitmap qemu-nbd -B NAME exports from the
 * side's chain under its view), VIEW a view text form (core/interpret/viewSource.ts). Without --b, B is A (useful with FILE2); `--b=@VIEW` is A's
 * interpretation under another view. With FILE2, A reads FILE and B reads FILE2.
 *
 * By default the sides are compared by meaning (core/diff/diff.ts: the facts both state); with
 * --compare=values, by their raw values, as a text diff of the two tools' outputs would.
 */
import { type Chain, closeChain } from '../../core/chain/chain.ts';
import type { DiffMode } from '../../core/diff/diff.ts';
import { type DiffSideInfo, formatDiffCsv, formatDiffJson } from '../../core/diff/export.ts';
import { meaningNotes } from '../../core/diff/meaning.ts';
import { diffSides, explainDifference, topClusterSize } from '../../core/diff/reason.ts';
import { sizeNote } from '../../core/diff/sizes.ts';
import { formatFinding } from '../../core/findings.ts';
import { escapeControls } from '../../core/format.ts';
import { dirtyBitmapEntry, loadDirtyBitmap } from '../../core/interpret/bitmap.ts';
import {
  CATALOGUE,
  type CatalogueEntry,
  catalogueEntry,
  type NativeFormat,
} from '../../core/interpret/catalogue.ts';
import { dirtyBitmapName } from '../../core/interpret/ids.ts';
import { formatNative, NATIVE_FORMATS } from '../../core/interpret/native.ts';
import {
  describeView,
  formatView,
  parseView,
  type ViewSource,
  ViewSpecError,
  viewStatus,
} from '../../core/interpret/viewSource.ts';
import type { ChainStatus } from '../../core/status/resolve.ts';
import { type CliIo, parseArgs, UsageError } from '../io.ts';
import { openChainFromPath } from '../openChain.ts';
import { dataFileName } from './shared.ts';

interface SideSpec {
  readonly entry: CatalogueEntry;
  readonly view: ViewSource;
}

/** A side as given: a catalogue entry, or a bitmap's name to find in the side's chain once open. */
interface SideArg {
  readonly entry?: CatalogueEntry;
  readonly bitmap?: string;
  readonly view: ViewSource;
}

function parseSide(spec: string, fallback: SideArg | undefined, flag: string): SideArg {
  const at = spec.indexOf('@');
  const id = at < 0 ? spec : spec.slice(0, at);
  let entry: CatalogueEntry | undefined;
  let bitmap: string | undefined;
  if (id === '') {
    if (!fallback) throw new UsageError(`${flag} needs an interpretation id (try: clusterscope diff --list)`);
    entry = fallback.entry;
    bitmap = fallback.bitmap;
  } else {
    entry = catalogueEntry(id);
    bitmap = entry ? undefined : dirtyBitmapName(id);
    if (!entry && bitmap === undefined)
      throw new UsageError(`${flag}: unknown interpretation '${id}' (try: clusterscope diff --list)`);
  }
  let view: ViewSource;
  try {
    view = parseView(at < 0 ? '' : spec.slice(at + 1));
  } catch (e) {
    if (e instanceof ViewSpecError) throw new UsageError(`${flag}: ${e.message}`);
    throw e;
  }
  // The content view means nothing unscanned: scan for it rather than report "not read" everywhere.
  if (entry?.needsZeroScan && !view.zeroScan) view = { ...view, zeroScan: true };
  return { ...(entry && { entry }), ...(bitmap !== undefined && { bitmap }), view };
}

/** The side's interpretation: its catalogue entry, or the bitmap qemu-nbd -B would export from the chain. */
async function resolveSide(s: SideArg, st: ChainStatus): Promise<SideSpec> {
  if (s.entry) return { entry: s.entry, view: s.view };
  const name = s.bitmap!;
  const loaded = await loadDirtyBitmap(st.chain, name);
  if (!loaded)
    throw new UsageError(`Bitmap '${name}' is not found in ${st.chain.layers[0]?.name ?? 'the image'}`);
  return { entry: dirtyBitmapEntry(loaded), view: s.view };
}

const listing = (): string =>
  `${CATALOGUE.map(
    (e) =>
      `${e.id.padEnd(40)}${e.interpretation.title}\n${''.padEnd(40)}${e.provenance}: ${e.basis}${
        e.nativeFormats.length ? `; --format=${e.nativeFormats.join('|')}` : ''
      }\n`,
  ).join(
    '',
  )}${'nbd-dirty-bitmap-NAME'.padEnd(40)}NBD qemu:dirty-bitmap:NAME: a persistent bitmap of the image (NAME spelled as ids.ts spells it)\nViews (INTERP@VIEW, comma-separated): chain (default), backing-null, snapshot:NAME, zero-scan\n`;

const sideInfo = (s: SideSpec, st: ChainStatus): DiffSideInfo => ({
  interpretation: s.entry.id,
  title: s.entry.interpretation.title,
  view: formatView(s.view),
  file: st.chain.layers[0]?.name ?? '',
});

export async function runDiff(args: string[], io: CliIo): Promise<number> {
  const { options, positionals } = parseArgs(args, new Set(['a', 'b', 'output', 'format', 'compare']));
  if (options.has('list')) {
    io.out(listing());
    return 0;
  }
  const aOpt = options.get('a');
  if (typeof aOpt !== 'string')
    throw new UsageError('diff needs --a=INTERP[@VIEW] (try: clusterscope diff --list)');
  const aArg = parseSide(aOpt, undefined, '--a');
  const bOpt = options.get('b');
  if (bOpt === true) throw new UsageError('--b needs a value, e.g. --b=@backing-null');
  const format = options.get('format');
  if (format !== undefined) {
    if (bOpt !== undefined || positionals.length !== 1)
      throw new UsageError('--format prints one interpretation: --a=INTERP[@VIEW] --format=FORMAT FILE');
    return native(aArg, format, positionals[0]!, io);
  }
  const bArg = bOpt === undefined ? aArg : parseSide(bOpt, aArg, '--b');
  const compare = options.get('compare') ?? 'meaning';
  if (compare !== 'meaning' && compare !== 'values')
    throw new UsageError(`--compare must be meaning or values, not '${compare}'`);
  const mode: DiffMode = compare;
  const output = options.get('output') ?? 'text';
  if (output !== 'text' && output !== 'json' && output !== 'csv')
    throw new UsageError(`--output must be text, json or csv, not '${output}'`);
  if (positionals.length < 1 || positionals.length > 2)
    throw new UsageError('diff takes FILE, or FILE and FILE2 (try: clusterscope --help)');
  const [fileA, fileB] = [positionals[0]!, positionals[1] ?? positionals[0]!];

  const [sa, sb, a, b] = await statuses(fileA, aArg, fileB, bArg);
  for (const f of [...sa.findings, ...(sb === sa ? [] : sb.findings)])
    io.err(`clusterscope: warning: ${formatFinding(f)}\n`);
  const A = { interpretation: a.entry.interpretation, status: sa };
  const B = { interpretation: b.entry.interpretation, status: sb };
  const d = diffSides(A, B, mode);
  const reason = options.has('no-reasons') ? undefined : (i: number) => explainDifference(d, i, A, B);
  const exportOpts = { a: sideInfo(a, sa), b: sideInfo(b, sb), ...(reason && { reason }) };
  if (output === 'json') io.out(formatDiffJson(d, exportOpts));
  else if (output === 'csv') io.out(formatDiffCsv(d, exportOpts));
  else {
    const side = (tag: string, s: SideSpec, st: ChainStatus) =>
      `${tag}: ${s.entry.interpretation.title} [${s.entry.id}${formatView(s.view) ? `@${formatView(s.view)}` : ''}]; ${escapeControls(st.chain.layers[0]!.name)}, ${describeView(s.view)}; ${st.length} bytes\n`;
    let t = side('A', a, sa) + side('B', b, sb);
    const sizes = sizeNote(d);
    if (sizes) t += `${sizes}\n`;
    const words = { nameA: 'A', nameB: 'B', clusterSize: topClusterSize(sa) };
    if (mode === 'meaning') for (const line of meaningNotes(d, words)) t += `${line}\n`;
    else t += 'Compared by value (--compare=values): the tools’ own encodings.\n';
    const pct = (n: number) => (d.overlap ? ((100 * n) / Math.max(d.lengthA, d.lengthB)).toFixed(1) : '0.0');
    if (d.count === 0) t += `A and B agree on all ${d.overlap} bytes.\n`;
    else {
      t += `${d.bytesDiffering} bytes differ in ${d.count} extent${d.count === 1 ? '' : 's'}; ${d.bytesAgreeing} bytes agree.\n`;
      t += 'Kinds:\n';
      for (const k of d.kinds)
        t += `${String(k.bytes).padStart(14)} ${pct(k.bytes).padStart(5)}% ${String(k.extents).padStart(8)} ext  ${k.label}  [${k.id}]\n`;
      t += 'Differences:\n';
      for (let i = 0; i < d.count; i++) {
        const k = d.kinds[d.kind[i]!]!;
        t += `${String(d.start[i]).padStart(14)} ${String(d.length[i]).padStart(14)}  ${k.label}${k.factsLabel ? `  (${k.factsLabel})` : ''}\n`;
        if (reason) t += `    ${reason(i)}\n`;
      }
    }
    io.out(t);
  }
  const err = sa.error ?? sb.error;
  if (err) {
    io.err(`clusterscope: ${err.message}\n`);
    return 1;
  }
  return 0;
}

/**
 * Opens each file once (with backing files unless every view of it is backing: null), and
 * reads each side's bitmap while its chain is open.
 */
async function statuses(
  fileA: string,
  a: SideArg,
  fileB: string,
  b: SideArg,
): Promise<[ChainStatus, ChainStatus, SideSpec, SideSpec]> {
  const va = a.view;
  const vb = b.view;
  const same = fileA === fileB;
  const chains: Chain[] = [];
  try {
    const open = async (file: string, views: ViewSource[]) => {
      const c = await openChainFromPath(file, { noBacking: views.every((v) => v.backing === 'null') });
      chains.push(c);
      return c;
    };
    const ca = await open(fileA, same ? [va, vb] : [va]);
    const cb = same ? ca : await open(fileB, [vb]);
    const sa = await viewStatus(ca, va);
    const sb = same && formatView(va) === formatView(vb) ? sa : await viewStatus(cb, vb);
    return [sa, sb, await resolveSide(a, sa), await resolveSide(b, sb)];
  } finally {
    await Promise.all(chains.map(closeChain));
  }
}

async function native(arg: SideArg, formatOpt: string | true, file: string, io: CliIo): Promise<number> {
  /** The format asked for, if the entry can print it. */
  const formatFor = (e: CatalogueEntry): NativeFormat => {
    const format: string | true = formatOpt === 'native' ? (e.nativeFormats[0] ?? 'native') : formatOpt;
    if (
      format === true ||
      !(NATIVE_FORMATS as readonly string[]).includes(format) ||
      !e.nativeFormats.includes(format as NativeFormat)
    ) {
      throw new UsageError(
        `--format for ${e.id} must be ${[...e.nativeFormats, ...(e.nativeFormats.length ? ['native'] : [])].join(', ') || 'absent (no tool prints this view)'}`,
      );
    }
    return format as NativeFormat;
  };
  // A catalogue entry is checked before the file is read; a bitmap once it is found.
  if (arg.entry) formatFor(arg.entry);
  const [st, , a] = await statuses(file, arg, file, arg);
  const e = a.entry;
  const format = formatFor(e);
  for (const f of st.findings) io.err(`clusterscope: warning: ${formatFinding(f)}\n`);
  const r = formatNative(e, st, format, (layer) => dataFileName(st, layer));
  io.out(r.text);
  if (r.error !== undefined) {
    io.err(`clusterscope: ${r.error}\n`);
    return 1;
  }
  return 0;
}
