/** The plugin in an application: @weir/pg pooling in-process against a throwaway PostgreSQL. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCluster, type Cluster } from '@weir/testkit';
import { Pool } from '@weir/pg';
import { LEASE_AUDIT, LeaseAuditPlugin } from '../src/index.js';

let cluster: Cluster;
let pool: Pool;

beforeAll(async () => {
  cluster = await startCluster({ name: 'lease-audit-pg' });
  await cluster.createRole('app', 'secret');
  await cluster.createDatabase('appdb', 'app');
  pool = new Pool({
    host: cluster.host,
    port: cluster.port,
    database: 'appdb',
    user: 'app',
    password: 'secret',
    max: 2,
    plugins: [[LeaseAuditPlugin, { slow_lease: '40ms' }]],
  });
});

afterAll(async () => {
  await pool?.end();
  await cluster?.stop();
});

it('audits the leases of pool.query and pool.connect', async () => {
  await pool.query('SELECT 1');
  await pool.query('SELECT pg_sleep(0.1)');
  const client = await pool.connect();
  client.release(new Error('done with it'));
  const audit = pool.kernel.resolve(LEASE_AUDIT);
  expect(audit.pool('app@appdb')).toMatchObject({ checkouts: 3, releases: 3, active: 0, slow: 1, drops: { 'released-bad': 1 } });
  const report = pool.report('LEASES')!;
  expect(report.rows[0]![0]).toBe('app@appdb');
  expect(report.rows[0]![6]).toBe(1); // slow
});

it('refuses a bad section when the pool is made', () => {
  expect(() => new Pool({ plugins: [[LeaseAuditPlugin, { slow_lease: 'soon' }]] })).toThrow(/plugins\.lease_audit\.slow_lease/);
});
