/** Typed engine errors as plain data that survives postMessage (class identity does not). */
import { isClusterscopeError } from '../core/errors.ts';
import type { Finding } from '../core/findings.ts';
import type { ErrorInfo, FindingInfo } from '../protocol/errors.ts';

export function toErrorInfo(e: unknown, file = ''): ErrorInfo {
  if (isClusterscopeError(e)) {
    return {
      kind: e.kind,
      name: e.name,
      file: e.file,
      structure: e.structure,
      ...(e.offset !== undefined && { offset: e.offset }),
      detail: e.detail,
      message: e.message,
      ...('hint' in e && typeof e.hint === 'string' && { hint: e.hint }),
    };
  }
  const detail = e instanceof Error ? e.message : String(e);
  return {
    kind: 'internal',
    name: e instanceof Error ? e.name : 'Error',
    file,
    structure: 'internal',
    detail,
    message: file ? `${file}: ${detail}` : detail,
  };
}

export const toFindingInfo = (f: Finding): FindingInfo => ({
  file: f.file,
  structure: f.structure,
  ...(f.offset !== undefined && { offset: f.offset }),
  message: f.message,
});
