/**
 * clusterscope diff: where two interpretations of one image (or one interpretation of two
 * images) disagree, with the reason in words per differing extent; and, with --format, one
 * interpretation alone in its tool's native text, to paste beside that tool's output.
 *
 *   clusterscope diff --a=INTERP[@VIEW] [--b=[INTERP][@VIEW]] [--output=text|json|csv] [--no-reasons] FILE [FILE2]
 *   clusterscope diff --a=INTERP[@VIEW] --format=FORMAT FILE
 *   clusterscope diff --list
 *
 * INTERP is a catalogue id (core/interpret/catalogue.ts), VIEW a view text form
 * (core/interpret/viewSource.ts). Without --b, B is A (useful with FILE2); `--b=@VIEW` is A's
 * interpretation under another view. With FILE2, A reads FILE and B reads FILE2.
 */
import { type Chain, closeChain } from '../../core/chain/chain.ts';
import { type DiffSideInfo, formatDiffCsv, formatDiffJson } from '../../core/diff/export.ts';
import { diffSides, explainDifference } from '../../core/diff/reason.ts';
import { sizeNote } from '../../core/diff/sizes.ts';
import { formatFinding } from '../../core/findings.ts';
import { escapeControls } from '../../core/format.ts';
import {
  CATALOGUE,
  type CatalogueEntry,
  catalogueEntry,
  type NativeFormat,
} from '../../core/interpret/catalogue.ts';
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

function parseSide(spec: string, fallback: SideSpec | undefined, flag: string): SideSpec {
  const at = spec.indexOf('@');
  const id = at < 0 ? spec : spec.slice(0, at);
  let entry: CatalogueEntry | undefined;
  if (id === '') {
    if (!fallback) throw new UsageError(`${flag} needs an interpretation id (try: clusterscope diff --list)`);
    entry = fallback.entry;
  } else {
    entry = catalogueEntry(id);
    if (!entry)
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
  if (entry.needsZeroScan && !view.zeroScan) view = { ...view, zeroScan: true };
  return { entry, view };
}

const listing = (): string =>
  `${CATALOGUE.map(
    (e) =>
      `${e.id.padEnd(40)}${e.interpretation.title}\n${''.padEnd(40)}${e.provenance}: ${e.basis}${
        e.nativeFormats.length ? `; --format=${e.nativeFormats.join('|')}` : ''
      }\n`,
  ).join('')}Views (INTERP@VIEW, comma-separated): chain (default), backing-null, snapshot:NAME, zero-scan\n`;

const sideInfo = (s: SideSpec, st: ChainStatus): DiffSideInfo => ({
  interpretation: s.entry.id,
  title: s.entry.interpretation.title,
  view: formatView(s.view),
  file: st.chain.layers[0]?.name ?? '',
});

export async function runDiff(args: string[], io: CliIo): Promise<number> {
  const { options, positionals } = parseArgs(args, new Set(['a', 'b', 'output', 'format']));
  if (options.has('list')) {
    io.out(listing());
    return 0;
  }
  const aOpt = options.get('a');
  if (typeof aOpt !== 'string')
    throw new UsageError('diff needs --a=INTERP[@VIEW] (try: clusterscope diff --list)');
  const a = parseSide(aOpt, undefined, '--a');
  const bOpt = options.get('b');
  if (bOpt === true) throw new UsageError('--b needs a value, e.g. --b=@backing-null');
  const format = options.get('format');
  if (format !== undefined) {
    if (bOpt !== undefined || positionals.length !== 1)
      throw new UsageError('--format prints one interpretation: --a=INTERP[@VIEW] --format=FORMAT FILE');
    return native(a, format, positionals[0]!, io);
  }
  const b = bOpt === undefined ? a : parseSide(bOpt, a, '--b');
  const output = options.get('output') ?? 'text';
  if (output !== 'text' && output !== 'json' && output !== 'csv')
    throw new UsageError(`--output must be text, json or csv, not '${output}'`);
  if (positionals.length < 1 || positionals.length > 2)
    throw new UsageError('diff takes FILE, or FILE and FILE2 (try: clusterscope --help)');
  const [fileA, fileB] = [positionals[0]!, positionals[1] ?? positionals[0]!];

  const [sa, sb] = await statuses(fileA, a.view, fileB, b.view);
  for (const f of [...sa.findings, ...(sb === sa ? [] : sb.findings)])
    io.err(`clusterscope: warning: ${formatFinding(f)}\n`);
  const A = { interpretation: a.entry.interpretation, status: sa };
  const B = { interpretation: b.entry.interpretation, status: sb };
  const d = diffSides(A, B);
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
    const pct = (n: number) => (d.overlap ? ((100 * n) / Math.max(d.lengthA, d.lengthB)).toFixed(1) : '0.0');
    if (d.count === 0) t += `A and B agree on all ${d.overlap} bytes.\n`;
    else {
      t += `${d.bytesDiffering} bytes differ in ${d.count} extent${d.count === 1 ? '' : 's'}; ${d.bytesAgreeing} bytes agree.\n`;
      t += 'Kinds:\n';
      for (const k of d.kinds)
        t += `${String(k.bytes).padStart(14)} ${pct(k.bytes).padStart(5)}% ${String(k.extents).padStart(8)} ext  ${k.label}  [${k.id}]\n`;
      t += 'Differences:\n';
      for (let i = 0; i < d.count; i++) {
        t += `${String(d.start[i]).padStart(14)} ${String(d.length[i]).padStart(14)}  ${d.kinds[d.kind[i]!]!.label}\n`;
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

/** Opens each file once (with backing files unless every view of it is backing: null). */
async function statuses(
  fileA: string,
  va: ViewSource,
  fileB: string,
  vb: ViewSource,
): Promise<[ChainStatus, ChainStatus]> {
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
    return [sa, sb];
  } finally {
    await Promise.all(chains.map(closeChain));
  }
}

async function native(a: SideSpec, formatOpt: string | true, file: string, io: CliIo): Promise<number> {
  const e = a.entry;
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
  const [st] = await statuses(file, a.view, file, a.view);
  for (const f of st.findings) io.err(`clusterscope: warning: ${formatFinding(f)}\n`);
  const r = formatNative(e, st, format as NativeFormat, (layer) => dataFileName(st, layer));
  io.out(r.text);
  if (r.error !== undefined) {
    io.err(`clusterscope: ${r.error}\n`);
    return 1;
  }
  return 0;
}
