/** qemu-img check's report rules (QEMU 7.2 qemu-img.c), on hand-made results. */
import { describe, expect, it } from 'vitest';
import {
  type CheckResult,
  formatHumanCheck,
  formatQemuCheckJson,
  pct,
  qemuCheckExitStatus,
  toQemuCheckJson,
} from './result.ts';

const base: CheckResult = {
  filename: 'a.qcow2',
  format: 'qcow2',
  checkErrors: 0,
  corruptions: 0,
  leaks: 0,
  corruptionsFixed: 0,
  leaksFixed: 0,
  imageEndOffset: 524288,
  totalClusters: 16,
  allocatedClusters: 3,
  fragmentedClusters: 2,
  compressedClusters: 1,
  messages: [],
  reported: [],
  messagesDropped: 0,
};

describe('qemu-img check report', () => {
  it('prints JSON members in the order qemu-img 7.2 prints them (QDict hash order)', () => {
    // Recorded: qemu-img check --output=json on an image with one leak and one corruption.
    expect(formatQemuCheckJson({ ...base, corruptions: 1, leaks: 1 })).toBe(
      '{\n    "image-end-offset": 524288,\n    "compressed-clusters": 1,\n    "total-clusters": 16,\n    "corruptions": 1,\n    "check-errors": 0,\n    "leaks": 1,\n    "allocated-clusters": 3,\n    "filename": "a.qcow2",\n    "format": "qcow2",\n    "fragmented-clusters": 2\n}',
    );
  });
  it('omits zero optional members but always prints check-errors, filename and format', () => {
    const j = toQemuCheckJson({
      ...base,
      imageEndOffset: 0,
      totalClusters: 0,
      allocatedClusters: 0,
      fragmentedClusters: 0,
      compressedClusters: 0,
    });
    expect(j).toEqual({ 'check-errors': 0, filename: 'a.qcow2', format: 'qcow2' });
  });
  it('exit status: 1 for failure or check errors, then 2 corruptions, 3 leaks, 0 clean', () => {
    expect(qemuCheckExitStatus(base)).toBe(0);
    expect(qemuCheckExitStatus({ ...base, leaks: 1 })).toBe(3);
    expect(qemuCheckExitStatus({ ...base, leaks: 1, corruptions: 1 })).toBe(2);
    expect(qemuCheckExitStatus({ ...base, corruptions: 1, checkErrors: 1 })).toBe(1);
    expect(qemuCheckExitStatus({ ...base, failure: 'Invalid argument' })).toBe(1);
  });
  it('human form matches dump_human_image_check()', () => {
    expect(formatHumanCheck({ ...base, corruptions: 1, leaks: 1 })).toBe(
      '\n1 errors were found on the image.\nData may be corrupted, or further writes to the image may corrupt it.\n' +
        '\n1 leaked clusters were found on the image.\nThis means waste of disk space, but no harm to data.\n' +
        '3/16 = 18.75% allocated, 66.67% fragmented, 33.33% compressed clusters\nImage end offset: 524288\n',
    );
  });
  it('percentages round exact ties to even like printf %0.2f (18.125 -> 18.12)', () => {
    expect(pct((29 * 100) / 160)).toBe('18.12');
    expect(pct(18.375)).toBe('18.38');
    expect(pct(66.66666)).toBe('66.67');
  });
});
