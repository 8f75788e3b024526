import type { ErrorWhere } from '../errors.ts';

/**
 * What `qemu-img check` reports (QEMU 7.2 qemu-img.c collect_image_check(),
 * dump_json_image_check(), dump_human_image_check(), img_check()), as a value.
 */

export interface CheckResult {
  /** The name the image was opened by; qemu-img prints the name it was given. */
  readonly filename: string;
  readonly format: 'qcow2';
  readonly checkErrors: number;
  readonly corruptions: number;
  readonly leaks: number;
  /** clusterscope never repairs; kept so the shape matches BdrvCheckResult. */
  readonly corruptionsFixed: number;
  readonly leaksFixed: number;
  readonly imageEndOffset: number;
  readonly totalClusters: number;
  readonly allocatedClusters: number;
  readonly fragmentedClusters: number;
  readonly compressedClusters: number;
  /**
   * QEMU's stderr lines during the check, in order and with its wording ("Leaked cluster 5
   * refcount=2 reference=1"). At most MAX_CHECK_MESSAGES; `messagesDropped` counts the rest.
   */
  readonly messages: readonly string[];
  /**
   * Indices of `messages` QEMU prints through error_report(), i.e. after the program's name
   * ("qemu-img: ERROR snapshot table too large"); the others it prints with fprintf().
   */
  readonly reported: readonly number[];
  readonly messagesDropped: number;
  /**
   * Set when QEMU's check itself fails (qcow2_co_check() returns -errno): qemu-img then prints
   * no report, only "Check failed: <strerror>", and exits 1. The value is the strerror text.
   */
  readonly failure?: string;
  /** The file, structure and offset that made the check fail, for clusterscope's own message. */
  readonly failureWhere?: ErrorWhere;
}

/** Messages kept per check; a badly broken image can produce one per cluster. */
export const MAX_CHECK_MESSAGES = 10000;

/**
 * The JSON object qemu-img check --output=json prints. Optional members appear only when
 * non-zero (collect_image_check()'s has_* flags). Key order is the one QEMU 7.2 prints, which
 * comes from QDict's hash buckets, not from the QAPI schema; recorded from qemu-img 7.2.22.
 * corruptions-fixed / leaks-fixed only appear with -r, which clusterscope does not do.
 */
export function toQemuCheckJson(r: CheckResult): Record<string, string | number> {
  const o: Record<string, string | number> = {};
  if (r.imageEndOffset) o['image-end-offset'] = r.imageEndOffset;
  if (r.compressedClusters) o['compressed-clusters'] = r.compressedClusters;
  if (r.totalClusters) o['total-clusters'] = r.totalClusters;
  if (r.corruptions) o.corruptions = r.corruptions;
  o['check-errors'] = r.checkErrors;
  if (r.leaks) o.leaks = r.leaks;
  if (r.leaksFixed) o['leaks-fixed'] = r.leaksFixed;
  if (r.allocatedClusters) o['allocated-clusters'] = r.allocatedClusters;
  o.filename = r.filename;
  o.format = r.format;
  if (r.fragmentedClusters) o['fragmented-clusters'] = r.fragmentedClusters;
  if (r.corruptionsFixed) o['corruptions-fixed'] = r.corruptionsFixed;
  return o;
}

/** QEMU's qobject_to_json_pretty(): 4-space indent, `"key": value`, no trailing newline. */
export function formatQemuCheckJson(r: CheckResult): string {
  const o = toQemuCheckJson(r);
  const lines = Object.entries(o).map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n${lines.join(',\n')}\n}`;
}

/**
 * printf("%0.2f"): glibc rounds the exact binary value, ties to even; Number#toFixed breaks
 * exact ties upward (18.125 -> "18.13" where printf gives "18.12").
 */
export function pct(x: number): string {
  const exact = x.toFixed(60);
  const dot = exact.indexOf('.');
  const rest = exact.slice(dot + 3);
  if (/^50*$/.test(rest)) {
    const truncated = exact.slice(0, dot + 3);
    const lastDigit = Number(truncated[truncated.length - 1]);
    if (lastDigit % 2 === 0) return truncated;
  }
  return x.toFixed(2);
}

/** dump_human_image_check(). */
export function formatHumanCheck(r: CheckResult): string {
  let s = '';
  if (!(r.corruptions || r.leaks || r.checkErrors)) {
    s += 'No errors were found on the image.\n';
  } else {
    if (r.corruptions) {
      s += `\n${r.corruptions} errors were found on the image.\nData may be corrupted, or further writes to the image may corrupt it.\n`;
    }
    if (r.leaks) {
      s += `\n${r.leaks} leaked clusters were found on the image.\nThis means waste of disk space, but no harm to data.\n`;
    }
    if (r.checkErrors) s += `\n${r.checkErrors} internal errors have occurred during the check.\n`;
  }
  if (r.totalClusters !== 0 && r.allocatedClusters !== 0) {
    s +=
      `${r.allocatedClusters}/${r.totalClusters} = ${pct((r.allocatedClusters * 100) / r.totalClusters)}% allocated, ` +
      `${pct((r.fragmentedClusters * 100) / r.allocatedClusters)}% fragmented, ` +
      `${pct((r.compressedClusters * 100) / r.allocatedClusters)}% compressed clusters\n`;
  }
  if (r.imageEndOffset) s += `Image end offset: ${r.imageEndOffset}\n`;
  return s;
}

/**
 * img_check()'s exit status: 1 if the check failed or had internal errors, else 2 for
 * corruptions, 3 for leaks only, 0 for a clean image (63, "format does not support checks",
 * cannot happen for qcow2).
 */
export function qemuCheckExitStatus(r: CheckResult): 0 | 1 | 2 | 3 {
  if (r.failure !== undefined || r.checkErrors) return 1;
  if (r.corruptions) return 2;
  if (r.leaks) return 3;
  return 0;
}
