/** The plugin in the weir proxy, enabled under `plugins:` by its package name. */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCluster, startWeir, type Cluster, type WeirInstance } from '@weir/testkit';

let cluster: Cluster;
let weir: WeirInstance;

beforeAll(async () => {
  cluster = await startCluster({ name: 'lease-audit-proxy' });
  await cluster.createRole('app', 'secret');
  await cluster.createDatabase('appdb', 'app');
  // The config file lands under node_modules/.cache, so `weir-plugin-lease-audit` resolves from it.
  weir = await startWeir({
    config: `
general: { host: 127.0.0.1, port: \${PORT}, admin_user: admin, admin_password: admin }
plugins:
  weir-plugin-lease-audit: { slow_lease: 100ms, report: LEASES }
pools:
  appdb:
    server_host: 127.0.0.1
    server_port: ${cluster.port}
    pool_mode: transaction
    pool_size: 2
    users: [{ username: app, password: secret }]
`,
  });
});

afterAll(async () => {
  await weir?.stop();
  await cluster?.stop();
});

it('counts the leases of transactions through the proxy and shows them with SHOW LEASES', async () => {
  const app = new pg.Client({ host: weir.host, port: weir.port, database: 'appdb', user: 'app', password: 'secret' });
  await app.connect();
  await app.query('BEGIN');
  await app.query('SELECT pg_sleep(0.15)');
  await app.query('COMMIT'); // one transaction: one lease, held > 100ms
  await app.end();

  const admin = new pg.Client({ host: weir.host, port: weir.port, database: 'weir', user: 'admin', password: 'admin' });
  await admin.connect();
  const { rows } = await admin.query('SHOW LEASES');
  await admin.end();
  const row = rows.find((r) => r.pool === 'app@appdb');
  expect(Number(row.slow)).toBe(1);
  expect(Number(row.max_held_ms)).toBeGreaterThanOrEqual(150);
  await weir.waitForLog(/"slowLeaseMs":100/);
});
