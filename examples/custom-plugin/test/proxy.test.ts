/** The plugin in the weir proxy, enabled under `plugins:` by its package name. */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startPluginStack, type PluginStack } from '@weir/testkit';

let stack: PluginStack;

beforeAll(async () => {
  // startWeir writes the config under node_modules/.cache, so `weir-plugin-lease-audit` resolves from it.
  stack = await startPluginStack({ name: 'lease-audit-proxy', plugins: 'weir-plugin-lease-audit: { slow_lease: 100ms, report: LEASES }' });
});

afterAll(async () => {
  await stack?.stop();
});

it('counts the leases of transactions through the proxy and shows them with SHOW LEASES', async () => {
  const app = new pg.Client(stack.app);
  await app.connect();
  await app.query('BEGIN');
  await app.query('SELECT pg_sleep(0.15)');
  await app.query('COMMIT'); // one transaction: one lease, held > 100ms
  await app.end();

  const row = (await stack.admin('SHOW LEASES')).find((r) => r.pool === 'app@appdb')!;
  expect(Number(row.slow)).toBe(1);
  expect(Number(row.max_held_ms)).toBeGreaterThanOrEqual(150);
  await stack.weir.waitForLog(/"slowLeaseMs":100/);
});
