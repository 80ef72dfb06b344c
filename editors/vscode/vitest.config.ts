import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const mock = fileURLToPath(new URL('./test/vscode.mock.ts', import.meta.url));

export default defineConfig({
  resolve: { alias: { vscode: mock } },
  test: {
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          setupFiles: ['test/setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'server',
          include: ['test/server/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // bench/render.py runs it (skipped without LSP_AGENT_BENCH_OUT)
          name: 'bench',
          include: ['test/bench/**/*.run.ts'],
          environment: 'node',
          setupFiles: ['test/setup.ts'],
          testTimeout: 300_000,
        },
      },
    ],
  },
});
