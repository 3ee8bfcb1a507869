import { defineConfig } from 'vitest/config';

const shared = {
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
};

export default defineConfig({
  ...shared,
  test: {
    projects: [
      {
        ...shared,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'plugins/*/src/**/*.test.ts'],
          setupFiles: ['reflect-metadata'],
          testTimeout: 60_000,
        },
      },
      {
        ...shared,
        test: {
          name: 'e2e',
          include: ['e2e/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
          setupFiles: ['reflect-metadata'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // The same e2e suite on the node:net data path (the default project runs the native one).
        // Files that do not touch the data path (packaging, deployment files, the CLI's check,
        // the fresh clone) run once, above.
        ...shared,
        test: {
          name: 'e2e-node',
          include: ['e2e/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
          exclude: ['e2e/fresh-clone.test.ts', 'e2e/packaging.test.ts', 'e2e/deploy.test.ts', 'e2e/check-cli.test.ts', '**/node_modules/**'],
          env: { WEIR_IO: 'node' },
          setupFiles: ['reflect-metadata'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // The hostile-input e2e against the AddressSanitizer + UBSan build of the native addon
        // (`npm run build:asan -w @weir/io` first); a sanitizer report fails the run.
        ...shared,
        test: {
          name: 'e2e-asan',
          include: ['e2e/security-data.test.ts', 'e2e/startup-hostile.test.ts', 'e2e/fuzz/*.test.ts', 'e2e/io-path.test.ts', 'e2e/pipeline.test.ts'],
          env: { WEIR_TESTKIT_SANITIZE: '1' },
          setupFiles: ['reflect-metadata'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
