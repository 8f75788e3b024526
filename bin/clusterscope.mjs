#!/usr/bin/env node
// The clusterscope CLI. The TypeScript sources are bundled into dist/cli by `npm install`
// (the prepare script runs `npm run build:cli`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(entry)) {
  process.stderr.write(
    'clusterscope: the CLI is not built; run `npm run build:cli` (npm install does it).\n',
  );
  process.exit(1);
}
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
