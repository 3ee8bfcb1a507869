/** The README's first example, run as written (its imports of '@weir/pg' pointed at this package's source). */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startCluster, type Cluster } from '@weir/testkit';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ name: 'weir-pg-readme' });
  await cluster.createRole('tenant_a', 'tenant-a-pw');
  await cluster.createDatabase('tenant_a', 'tenant_a');
});

afterAll(async () => {
  await cluster?.stop();
});

it('the README example runs', async () => {
  const root = join(__dirname, '..');
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const dir = join(root, '.tmp');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'readme-example.ts');
  writeFileSync(file, code!.replace("from '@weir/pg'", "from '../src/index.js'"));
  const env = { DATABASE_URL: process.env.DATABASE_URL, TENANT_A_PASSWORD: process.env.TENANT_A_PASSWORD };
  process.env.DATABASE_URL = cluster.url({ database: 'postgres' });
  process.env.TENANT_A_PASSWORD = 'tenant-a-pw';
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    const mod = (await import(/* @vite-ignore */ file)) as { main: () => Promise<void> };
    await mod.main();
    expect(log.mock.calls).toEqual([['hello'], ['tenant_a', 1], [[['tenant_a@tenant_a', 1, 1, 0, 1, 0, 0]]]]);
  } finally {
    log.mockRestore();
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});
