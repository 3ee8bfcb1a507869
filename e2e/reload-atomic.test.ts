/**
 * RELOAD builds, then swaps: a plugin that refuses its new section (weir-plugin-lease-audit will
 * not rename its report on reload) in a file that also changes pools leaves every pool and plugin
 * exactly as it was — same SHOW POOLS / DATABASES / CONFIG, same server connections, same report,
 * clients still served — and the error names the plugin, the key path and the line. The same pool
 * changes without the refusal then go through, so the refused file really asked for them.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, startWeir, type Cluster, type WeirInstance } from '@weir/testkit';
import { sleep } from './helpers.js';

const PLUGIN = 'weir-plugin-lease-audit';

let cluster: Cluster;
let weir: WeirInstance;

function config(o: { report: string; poolSize: number; mode: string; otherdb: boolean }): string {
  return `general:
  host: 127.0.0.1
  port: \${PORT}
  admin_user: admin
  admin_password: admin
  log_level: info
plugins:
  ${PLUGIN}:
    slow_lease: 10s
    report: ${o.report}
pools:
  appdb:
    server_host: 127.0.0.1
    server_port: ${cluster.port}
    pool_mode: ${o.mode}
    pool_size: ${o.poolSize}
    users:
      - username: app
        password: secret
${o.otherdb ? `  otherdb:
    server_host: 127.0.0.1
    server_port: ${cluster.port}
    server_database: appdb
    pool_size: 1
    users:
      - username: app
        password: secret
` : ''}`;
}

const RUNNING = { report: 'LEASES', poolSize: 2, mode: 'transaction', otherdb: false };

async function connect(database: string): Promise<pg.Client> {
  const c = new pg.Client({ host: weir.host, port: weir.port, database, user: database === 'weir' ? 'admin' : 'app', password: database === 'weir' ? 'admin' : 'secret' });
  c.on('error', () => {});
  await c.connect();
  return c;
}

/** Everything a reload could change, as the admin console shows it (counters that move with time left out). */
async function state(admin: pg.Client): Promise<Record<string, unknown>> {
  const rows = async (what: string) => (await admin.query(`SHOW ${what}`)).rows;
  return {
    pools: (await rows('POOLS')).map((r) => [r.database, r.user, r.pool_mode, r.sv_idle, r.sv_active]),
    databases: (await rows('DATABASES')).map((r) => [r.name, r.port, r.pool_size, r.pool_mode]),
    config: await rows('CONFIG'),
    servers: (await rows('SERVERS')).map((r) => [r.database, r.remote_pid]),
    help: JSON.stringify(await rows('HELP')),
  };
}

beforeAll(async () => {
  cluster = await startCluster({ name: 'e2e-reload-atomic' });
  await cluster.createRole('app', 'secret', { method: 'scram-sha-256' });
  await cluster.createDatabase('appdb', 'app');
  weir = await startWeir({ config: config(RUNNING) });
});

afterAll(async () => {
  await weir?.stop();
  await cluster?.stop();
});

describe('a RELOAD a plugin refuses', () => {
  it('changes nothing: pools, server connections, config, the plugin and its report; clients go on', async () => {
    const admin = await connect('weir');
    const held = await connect('appdb'); // a client across the reload
    try {
      await held.query('SELECT 1');
      const before = await state(admin);
      expect(before.servers).toHaveLength(1);

      const mark = weir.logs.length;
      await weir.reload(config({ report: 'AUDIT', poolSize: 3, mode: 'session', otherdb: true })); // SIGHUP
      await weir.waitForLog(/RELOAD failed/, 10_000, mark);
      const err = await admin.query('RELOAD').then(() => undefined, (e: Error) => e);
      expect(err?.message).toContain(`weir.yaml:10: plugins.${PLUGIN}.report: plugin ${PLUGIN} refused the new config`);
      expect(err?.message).toContain('report cannot be renamed on reload');
      expect(weir.logs.slice(mark).join('\n')).not.toMatch(/retired|config reloaded/);

      expect(await state(admin)).toEqual(before);
      expect((await admin.query('SHOW LEASES')).rows.find((r) => r.pool === 'app@appdb')).toBeDefined();
      expect((await held.query('SELECT 2 AS n')).rows[0].n).toBe(2);
      const fresh = await connect('appdb');
      expect((await fresh.query('SELECT 3 AS n')).rows[0].n).toBe(3);
      await fresh.end();
      await expect(connect('otherdb')).rejects.toThrow(); // the refused file's new pool was never added
    } finally {
      await held.end().catch(() => {});
      await admin.end().catch(() => {});
    }
  });

  it('the same pool changes without the refusal are applied: the old pool is retired and that is logged', async () => {
    const admin = await connect('weir');
    try {
      const mark = weir.logs.length;
      await weir.reload(config({ report: 'LEASES', poolSize: 3, mode: 'session', otherdb: true }));
      await weir.waitForLog(/config reloaded/, 10_000, mark);
      const line = await weir.waitForLog(/pool app@appdb retired \(pool config changed\)/, 10_000, mark);
      expect(line).toBeTruthy();
      let pools: unknown[] = [];
      for (let i = 0; i < 50; i++) {
        pools = (await admin.query('SHOW POOLS')).rows.map((r) => [r.database, r.pool_mode]);
        if (pools.length === 2) break;
        await sleep(100);
      }
      expect(pools).toEqual([['appdb', 'session'], ['otherdb', 'transaction']]);
      const other = await connect('otherdb');
      expect((await other.query('SELECT current_database() AS d')).rows[0].d).toBe('appdb');
      await other.end();
    } finally {
      await admin.end().catch(() => {});
    }
  });
});
