/**
 * The plugin in the weir proxy, named under `plugins:` by its package name: an idle server
 * connection killed by PostgreSQL is counted, logged, shown by SHOW DROPS and served on /metrics.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, startPluginStack, type PluginStack } from '@weir/testkit';

let stack: PluginStack;
let metricsPort: number;

beforeAll(async () => {
  metricsPort = await freePort();
  stack = await startPluginStack({ name: 'drop-audit-proxy', plugins: 'weir-plugin-drop-audit: { warn: [error] }', general: { metrics_port: metricsPort } });
});

afterAll(async () => {
  await stack?.stop();
});

it('counts a server connection PostgreSQL closed, and shows it with SHOW DROPS and on /metrics', async () => {
  const app = new pg.Client(stack.app);
  await app.connect();
  await app.query('SELECT 1'); // one server connection, idle in the pool afterwards
  await stack.cluster.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'appdb' AND usename = 'app' AND pid <> pg_backend_pid()");
  await stack.weir.waitForLog(/a server connection of app@appdb closed: error/);
  await app.end();

  expect(await stack.admin('SHOW DROPS')).toContainEqual({ pool: 'app@appdb', reason: 'error', count: '1' });
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  expect(metrics).toContain('weir_plugin_drops_total{pool="app@appdb",reason="error"} 1');
});
