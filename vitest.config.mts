import { defineConfig } from 'vitest/config';

const shared = {
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
};

const E2E = ['e2e/**/*.test.ts', 'examples/*/test/**/*.test.ts'];

/** An e2e project: real PostgreSQL and the built weir, files one after another. */
function e2e(name: string, include: string[], env: Record<string, string> = {}, exclude: string[] = []) {
  return {
    ...shared,
    test: {
      name,
      include,
      exclude: [...exclude, '**/node_modules/**'],
      env,
      setupFiles: ['reflect-metadata'],
      testTimeout: 180_000,
      hookTimeout: 180_000,
      fileParallelism: false,
    },
  };
}

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
          // The plugin API's type-level tests (*.test-d.ts): tsc over the kernel, errors fail the run.
          typecheck: { enabled: true, include: ['packages/kernel/src/**/*.test-d.ts'], tsconfig: 'packages/kernel/tsconfig.test.json' },
        },
      },
      // The native data plane where the addon built (weir's default).
      e2e('e2e', E2E),
      // The same files on node:net. Those that do not touch the data path (packaging, deployment
      // files, the CLI's check, the fresh clone) run once, above.
      e2e('e2e-node', E2E, { WEIR_IO: 'node' },
        ['e2e/fresh-clone.test.ts', 'e2e/packaging.test.ts', 'e2e/deploy.test.ts', 'e2e/check-cli.test.ts']),
      // The hostile-input e2e against the AddressSanitizer + UBSan build of the addon
      // (`npm run build:asan -w @weir/io` first); a sanitizer report fails the run.
      e2e('e2e-asan', ['e2e/security-data.test.ts', 'e2e/startup-hostile.test.ts', 'e2e/fuzz/*.test.ts', 'e2e/io-path.test.ts', 'e2e/pipeline.test.ts', 'e2e/prepared/model.test.ts'],
        { WEIR_TESTKIT_SANITIZE: '1' }),
    ],
  },
});
