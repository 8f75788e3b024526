import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [react()],
  worker: { format: 'es' },
  // dist/web, beside dist/cli (the CLI bundle), so building one never deletes the other.
  build: { target: 'es2022', sourcemap: true, outDir: 'dist/web' },
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    // Forks, not threads: CLI parity tests chdir into fixture folders, as qemu-img was run there.
    pool: 'forks',
    testTimeout: 60_000,
  },
});
