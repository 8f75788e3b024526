import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, test } from '@playwright/test';
import { dropAndWait, fixture, openApp } from './helpers.ts';

const golden = (c: string, f: string) => resolve(import.meta.dirname, '../fixtures/golden', c, f);

for (const c of ['nbd-hole-example', 'chain-3'] as const) {
  test(`Export map as QEMU 7.2 equals the golden qemu-img map JSON and nbdinfo --map (${c})`, async ({
    page,
  }) => {
    const json = golden(c, 'map.json');
    const nbd = golden(c, 'nbd-base.txt');
    test.skip(!existsSync(json) || !existsSync(nbd), 'golden files are being remade');
    await openApp(page);
    const files =
      c === 'chain-3'
        ? ['top.qcow2', 'mid.qcow2', 'base.qcow2'].map((n) => fixture(c, n))
        : [fixture(c, 'top.qcow2'), fixture(c, 'base.raw')];
    await dropAndWait(page, files);
    const group = page.getByRole('group', { name: 'Export map' });
    // The golden files were recorded with QEMU 7.2 (fixtures/README.md).
    await group.getByLabel('as QEMU').selectOption('7002');
    const [d1] = await Promise.all([
      page.waitForEvent('download'),
      group.getByText('qemu-img map JSON').click(),
    ]);
    expect(d1.suggestedFilename()).toBe('top.qcow2.map.json');
    expect(readFileSync((await d1.path())!, 'utf8')).toBe(readFileSync(json, 'utf8'));
    const [d2] = await Promise.all([
      page.waitForEvent('download'),
      group.getByText('nbdinfo --map text').click(),
    ]);
    expect(readFileSync((await d2.path())!, 'utf8')).toBe(readFileSync(nbd, 'utf8'));
  });
}
