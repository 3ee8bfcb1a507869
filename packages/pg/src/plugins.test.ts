import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '@weir/kernel';
import { startCluster, type Cluster } from '@weir/testkit';
import { DynamicPoolsPlugin } from '@weir/plugin-dynamic-pools';
import { IdleGcPlugin } from '@weir/plugin-idle-gc';
import { PreparedStatementsPlugin, STATEMENT_CACHE, type StatementCache } from '@weir/plugin-prepared-statements';
import { Pool, type PoolConfig } from './index.js';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ name: 'weir-pg-plugins' });
  await cluster.createRole('app', 'secret');
  await cluster.createDatabase('appdb', 'app');
  for (const t of ['acme', 'globex']) {
    await cluster.createRole(t, `${t}-pw`, { method: 'scram-sha-256' });
    await cluster.createDatabase(`${t}_db`, t);
  }
});

afterAll(async () => {
  await cluster?.stop();
});

function pool(extra: PoolConfig = {}): Pool {
  return new Pool({ host: cluster.host, port: cluster.port, database: 'appdb', user: 'app', password: 'secret', ...extra });
}

async function until(cond: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const acme = { database: 'acme_db', user: 'acme', password: 'acme-pw' };
const globex = { database: 'globex_db', user: 'globex', password: 'globex-pw', max: 1 };

describe('per-tenant pools (dynamic-pools, idle-gc)', () => {
  it('makes a pool per tenant on first use, logged in as that tenant', async () => {
    const p = pool({ plugins: [DynamicPoolsPlugin] });
    try {
      const a = p.for(acme);
      expect(p.for(acme)).toBe(a);
      expect(a.active).toBe(false);
      const connects: string[] = [];
      a.on('connect', () => connects.push('acme'));
      p.on('connect', () => connects.push('base'));
      expect((await a.query('SELECT current_user AS u, current_database() AS d')).rows[0]).toEqual({ u: 'acme', d: 'acme_db' });
      expect((await p.for(globex).query('SELECT current_user AS u')).rows[0].u).toBe('globex');
      expect(a.active).toBe(true);
      expect(a.totalCount).toBe(1);
      expect(connects).toEqual(['acme']);
      const kinds = p.kernel.registry.entries().map((e) => [e.pool.info.name, e.kind]);
      expect(kinds).toEqual(expect.arrayContaining([['app@appdb', 'static'], ['acme@acme_db', 'dynamic'], ['globex@globex_db', 'dynamic']]));
      // the tenant's max (1) is its pool's size
      const held = await p.for(globex).connect();
      const waiting = p.for(globex).connect();
      await until(() => p.for(globex).waitingCount === 1);
      held.release();
      (await waiting).release();
      expect(p.for(globex).totalCount).toBe(1);
    } finally {
      await p.end();
    }
    expect(await cluster.serverConnections('acme_db')).toBe(0);
  });

  it('collects a tenant pool idle longer than pool_idle_timeout (fake clock) and makes it again on demand', async () => {
    const clock = new FakeClock(1_000_000);
    const p = pool({
      clock,
      plugins: [DynamicPoolsPlugin, [IdleGcPlugin, { interval: '10s', pool_idle_timeout: '1m' }]],
    });
    try {
      const a = p.for(acme);
      const removed: unknown[] = [];
      a.on('remove', (c) => removed.push(c));
      const pid1 = (await a.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      await p.for(globex).query('SELECT 1');
      expect(await cluster.serverConnections('acme_db')).toBe(1);

      clock.advance(30_000); // idle for 30 s: kept
      expect(a.active).toBe(true);
      await p.for(globex).query('SELECT 1'); // globex stays busy
      clock.advance(40_000); // acme idle for 70 s: collected at the next sweep
      expect(a.active).toBe(false);
      expect(p.for(globex).active).toBe(true);
      await until(async () => (await cluster.serverConnections('acme_db')) === 0);
      expect(removed).toHaveLength(1);
      expect(p.kernel.registry.get('acme_db', 'acme')).toBeUndefined();

      const pid2 = (await a.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      expect(pid2).not.toBe(pid1);
      expect(a.active).toBe(true);
      // the base pool is static: never collected
      await p.query('SELECT 1');
      clock.advance(600_000);
      expect(p.kernel.registry.get('appdb', 'app')?.kind).toBe('static');
    } finally {
      await p.end();
    }
  });

  it('tenant.end() closes only that tenant', async () => {
    const p = pool({ plugins: [DynamicPoolsPlugin] });
    try {
      const a = p.for(acme);
      await a.query('SELECT 1');
      await a.end();
      expect(a.ended).toBe(true);
      await expect(a.query('SELECT 1')).rejects.toThrow(/after calling end/);
      expect((await p.query('SELECT 1 AS n')).rows[0].n).toBe(1);
      // asking again gives a fresh facade and a fresh pool
      expect((await p.for(acme).query('SELECT current_user AS u')).rows[0].u).toBe('acme');
    } finally {
      await p.end();
    }
  });
});

describe('prepared statements', () => {
  it('caches named statements per ConnectionId, bounded, and forgets them when the connection closes', async () => {
    const p = pool({ max: 1, plugins: [[PreparedStatementsPlugin, { max_per_connection: 2 }]] });
    try {
      const q = (name: string, n: number) => p.query({ name, text: `SELECT $1::int + ${name.length} AS n`, values: [n] });
      await q('s1', 1);
      await q('s1', 2);
      await q('s22', 3);
      await q('s333', 4); // evicts s1 (least recently used)
      const client = await p.connect();
      const id = p.connectionId(client)!;
      const cache = p.kernel.resolve(STATEMENT_CACHE) as StatementCache;
      expect(cache.peek(id)?.list()).toEqual(['s22', 's333']);
      const onServer = (await client.query('SELECT name FROM pg_prepared_statements ORDER BY name')).rows.map((r) => r.name);
      expect(onServer).toEqual(['s22', 's333']);
      client.release();
      expect(p.report('PREPARED_STATEMENTS')!.rows).toEqual([['app@appdb', 1, 2, 1, 3, 1, 0]]);

      expect((await q('s1', 10)).rows[0].n).toBe(12); // prepared again after its eviction

      const again = await p.connect();
      expect(p.connectionId(again)).toBe(id);
      again.release(true); // destroy: the drop hook empties its cache
      await until(() => p.totalCount === 0);
      expect(cache.peek(id)).toBeUndefined();
      expect((await q('s22', 1)).rows[0].n).toBe(4); // a new connection prepares it anew
    } finally {
      await p.end();
    }
  });

  it('leaves queries alone when the plugin is off', async () => {
    const p = pool({ max: 1 });
    try {
      await p.query({ name: 'plain', text: 'SELECT 1 AS n' });
      expect(p.report('PREPARED_STATEMENTS')).toBeUndefined();
    } finally {
      await p.end();
    }
  });
});
