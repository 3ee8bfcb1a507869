/**
 * `npm run demo -w examples/host-app`: a throwaway PostgreSQL (via @weir/testkit) with two
 * tenant databases, the service on a free port, a few requests against it, what came back,
 * exit 0.
 */
import type { AddressInfo } from 'node:net';
import { startCluster, type Cluster } from '@weir/testkit';
import type { TenantConfig } from '@weir/pg';
import { createServer } from './app.js';
import { createPool } from './pool.js';

const TENANTS = ['acme', 'globex'];

async function prepare(cluster: Cluster): Promise<Record<string, TenantConfig>> {
  await cluster.createRole('app', 'app-secret');
  await cluster.createDatabase('appdb', 'app');
  const directory: Record<string, TenantConfig> = {};
  for (const name of TENANTS) {
    const password = `${name}-secret`;
    await cluster.createRole(name, password);
    await cluster.createDatabase(name, name); // the service creates its notes table itself
    directory[name] = { database: name, user: name, password };
  }
  return directory;
}

/** Run the demo; `log` gets each line. Returns the responses, for the demo's test. */
export async function runDemo(log: (line: string) => void = console.log): Promise<Array<{ request: string; status: number; body: unknown }>> {
  const cluster = await startCluster({ name: 'host-app-demo' });
  const seen: Array<{ request: string; status: number; body: unknown }> = [];
  try {
    const tenants = await prepare(cluster);
    const pool = createPool({
      host: cluster.host,
      port: cluster.port,
      database: 'appdb',
      user: 'app',
      password: 'app-secret',
      tenantIdleTimeout: '1s', // short, so the demo can show tenant pools being collected
      gcInterval: '250ms',
    });
    const server = createServer(pool, (name) => tenants[name]);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    log(`notes service on ${base}, PostgreSQL on ${cluster.host}:${cluster.port}`);

    const call = async (method: string, path: string, body?: string): Promise<unknown> => {
      const res = await fetch(base + path, { method, ...(body === undefined ? {} : { body }) });
      const json: unknown = await res.json();
      seen.push({ request: `${method} ${path}`, status: res.status, body: json });
      log(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
      return json;
    };

    try {
      await call('GET', '/health');
      await call('POST', '/tenants/acme/notes', 'buy anvils');
      await call('POST', '/tenants/acme/notes', 'paint tunnel on wall');
      await call('POST', '/tenants/globex/notes', 'hire a new intern');
      await call('GET', '/tenants/acme/notes');
      await call('GET', '/tenants/globex/notes');
      await call('GET', '/tenants/initech/notes');
      await call('GET', '/stats');
      log('… waiting for the idle tenant pools to be collected …');
      await new Promise((r) => setTimeout(r, 2_500));
      await call('GET', '/stats');
      await call('GET', '/tenants/acme/notes'); // made again on demand
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    }
  } finally {
    await cluster.stop();
  }
  return seen;
}

if (require.main === module) {
  runDemo().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
