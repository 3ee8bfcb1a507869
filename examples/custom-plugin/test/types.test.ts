import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

// `npm test` in this package also runs test/*.test-d.ts through vitest's typecheck; this runs
// them from the monorepo's e2e project too.
it('the plugin author API types hold (tsc over src and test, *.test-d.ts included)', () => {
  const root = path.join(__dirname, '..');
  const tsc = path.join(path.dirname(require.resolve('typescript/package.json', { paths: [root] })), 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.test.json')], { encoding: 'utf8', timeout: 120_000 });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});
