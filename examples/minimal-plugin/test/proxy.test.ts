/**
 * The plugin in the weir proxy, named under `plugins:` by its package name: an idle server
 * connection killed by PostgreSQL is counted, logged, shown by SHOW DROPS and served on /metrics.
 */
import http from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, startCluster, startWeir, type Cluster, type WeirInstance } from '@weir/testkit';

let cluster: Cluster;
let weir: WeirInstance;
let metricsPort: number;

beforeAll(async () => {
  cluster = await startCluster({ name: 'drop-audit-proxy' });
  await cluster.createRole('app', 'secret');
  await cluster.createDatabase('appdb', 'app');
  metricsPort = await freePort();
  // The config file lands under node_modules/.cache, so `weir-plugin-drop-audit` resolves from it.
  weir = await startWeir({
    config: `
general: { host: 127.0.0.1, port: \${PORT}, admin_user: admin, admin_password: admin, metrics_port: ${metricsPort} }
plugins:
  weir-plugin-drop-audit: { warn: [error] }
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

function metrics(): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: metricsPort, path: '/metrics' }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => resolve(body));
    }).on('error', reject);
  });
}

it('counts a server connection PostgreSQL closed, and shows it with SHOW DROPS and on /metrics', async () => {
  const app = new pg.Client({ host: weir.host, port: weir.port, database: 'appdb', user: 'app', password: 'secret' });
  await app.connect();
  await app.query('SELECT 1'); // one server connection, idle in the pool afterwards
  await cluster.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'appdb' AND usename = 'app' AND pid <> pg_backend_pid()");
  await weir.waitForLog(/a server connection of app@appdb closed: error/);
  await app.end();

  const admin = new pg.Client({ host: weir.host, port: weir.port, database: 'weir', user: 'admin', password: 'admin' });
  await admin.connect();
  const { rows } = await admin.query('SHOW DROPS');
  await admin.end();
  expect(rows).toContainEqual({ pool: 'app@appdb', reason: 'error', count: '1' });
  expect(await metrics()).toContain('weir_plugin_drops_total{pool="app@appdb",reason="error"} 1');
});
