import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { z } from 'zod';
import { startCluster, type Cluster } from '@weir/testkit';
import { Pool, type PoolClient } from './index.js';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ name: 'weir-pg-pool' });
  await cluster.createRole('app', 'secret', { method: 'scram-sha-256' });
  await cluster.createDatabase('appdb', 'app');
});

afterAll(async () => {
  await cluster?.stop();
});

function pool(extra: ConstructorParameters<typeof Pool>[0] = {}): Pool {
  return new Pool({ host: cluster.host, port: cluster.port, database: 'appdb', user: 'app', password: 'secret', ...extra });
}

/** Backends of `appdb` as the server sees them. */
const backends = (): Promise<number> => cluster.serverConnections('appdb');

async function until(cond: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('query', () => {
  it('takes text, text + values, a config object, a config with values, and array row mode', async () => {
    const p = pool();
    try {
      expect((await p.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect((await p.query('SELECT $1::int + $2::int AS n', [2, 3])).rows[0].n).toBe(5);
      expect((await p.query({ text: 'SELECT $1::text AS t', values: ['x'] })).rows[0].t).toBe('x');
      expect((await p.query({ text: 'SELECT $1::text AS t' }, ['y'])).rows[0].t).toBe('y');
      const arr = await p.query({ text: 'SELECT 1, 2', rowMode: 'array' });
      expect(arr.rows).toEqual([[1, 2]]);
      expect((await p.query('SELECT current_user AS u, current_database() AS d')).rows[0]).toEqual({ u: 'app', d: 'appdb' });
    } finally {
      await p.end();
    }
  });

  it('takes callbacks (text, cb) and (text, values, cb) and returns undefined', async () => {
    const p = pool();
    try {
      const a = await new Promise<pg.QueryResult>((resolve, reject) => {
        const r = p.query('SELECT 7 AS n', (err, res) => (err ? reject(err) : resolve(res)));
        expect(r).toBeUndefined();
      });
      expect(a.rows[0].n).toBe(7);
      const b = await new Promise<pg.QueryResult>((resolve, reject) => {
        p.query('SELECT $1::int AS n', [8], (err, res) => (err ? reject(err) : resolve(res)));
      });
      expect(b.rows[0].n).toBe(8);
      const err = await new Promise<Error>((resolve) => p.query('SELECT nope', (e) => resolve(e)));
      expect(err).toBeInstanceOf(pg.DatabaseError);
    } finally {
      await p.end();
    }
  });

  it('keeps a client after an SQL error, and rejects submittables and functions', async () => {
    const p = pool({ max: 1 });
    const removed: pg.Client[] = [];
    p.on('remove', (c) => removed.push(c));
    try {
      await p.query('SELECT 1');
      await expect(p.query('SELECT * FROM missing_table')).rejects.toMatchObject({ code: '42P01' });
      expect((await p.query('SELECT 2 AS n')).rows[0].n).toBe(2);
      expect(removed).toHaveLength(0);
      expect(p.totalCount).toBe(1);
      expect(() => p.query(new pg.Query('SELECT 1') as never)).toThrow(/submittables/);
      expect(() => p.query((() => 1) as never)).toThrow(TypeError);
    } finally {
      await p.end();
    }
  });
});

describe('connect and release', () => {
  it('hands out real pg.Clients with release(), and says connect/acquire/release/remove', async () => {
    const p = pool({ max: 2 });
    const events: string[] = [];
    p.on('connect', (c) => events.push(`connect:${c instanceof pg.Client}`));
    p.on('acquire', () => events.push('acquire'));
    p.on('release', (err) => events.push(`release:${err ? 'err' : 'ok'}`));
    p.on('remove', () => events.push('remove'));

    const c1 = await p.connect();
    expect(c1).toBeInstanceOf(pg.Client);
    expect((await c1.query('SELECT 1 AS n')).rows[0].n).toBe(1);
    expect(p.totalCount).toBe(1);
    expect(p.idleCount).toBe(0);
    c1.release();
    expect(p.idleCount).toBe(1);
    expect(() => c1.release()).toThrow(/already been released/);

    const c2 = await p.connect();
    expect(c2).toBe(c1); // reused
    c2.release(new Error('broken'));
    await until(() => p.totalCount === 0);
    expect(events).toEqual(['connect:true', 'acquire', 'release:ok', 'acquire', 'release:err', 'remove']);
    await p.end();
  });

  it('supports connect(callback) with done()', async () => {
    const p = pool();
    const n = await new Promise<number>((resolve, reject) => {
      p.connect((err, client, done) => {
        if (err || !client) return reject(err);
        client.query('SELECT 3 AS n').then((r) => {
          done();
          resolve(r.rows[0].n);
        }, reject);
      });
    });
    expect(n).toBe(3);
    expect(p.idleCount).toBe(1);
    await p.end();
  });

  it('counts waiters, hands a released client to the longest waiter, and times out with connectionTimeoutMillis', async () => {
    const p = pool({ max: 1, connectionTimeoutMillis: 300 });
    const held = await p.connect();
    const waiting = p.connect();
    await until(() => p.waitingCount === 1);
    expect(p.totalCount).toBe(1);
    held.release();
    const next = await waiting;
    expect(next).toBe(held);
    expect(p.waitingCount).toBe(0);
    await expect(p.connect()).rejects.toMatchObject({ code: 'WEIR_E_ACQUIRE_TIMEOUT' });
    next.release();
    await p.end();
  });

  it('never opens more than max clients', async () => {
    const p = pool({ max: 3 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => p.query('SELECT pg_sleep(0.02), $1::int AS i', [i])));
    expect(p.totalCount).toBeLessThanOrEqual(3);
    expect(await backends()).toBeLessThanOrEqual(3);
    await p.end();
  });

  it('retires a client after maxUses, and runs onConnect before first use', async () => {
    const p = pool({ max: 1, maxUses: 2, onConnect: (c) => c.query("SET application_name = 'weir-pg-test'").then(() => undefined) });
    let removed = 0;
    p.on('remove', () => removed++);
    const pid1 = (await p.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    expect((await p.query('SHOW application_name')).rows[0].application_name).toBe('weir-pg-test');
    await until(() => removed === 1);
    const pid2 = (await p.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    expect(pid2).not.toBe(pid1);
    await p.end();
  });

  it('discards a client that verify() rejects, and fills in pg.Pool defaults in pool.options', async () => {
    let calls = 0;
    const p = pool({
      max: 1,
      verify: (_client, done) => done(++calls === 1 ? new Error('not this one') : undefined),
    });
    expect(p.options).toMatchObject({ max: 1, maxUses: Infinity, allowExitOnIdle: false, maxLifetimeSeconds: 0, idleTimeoutMillis: 10_000 });
    await expect(p.query('SELECT 1')).rejects.toThrow('not this one');
    expect((await p.query('SELECT 1 AS n')).rows[0].n).toBe(1);
    expect(calls).toBe(2);
    await p.end();
  });

  it('closes an idle client whose backend dies, says error, and serves the next query with a new one', async () => {
    const p = pool({ max: 1 });
    const errors: Error[] = [];
    p.on('error', (err) => errors.push(err));
    const pid = (await p.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await cluster.query('SELECT pg_terminate_backend($1)', [pid]);
    await until(() => errors.length === 1 && p.totalCount === 0);
    const pid2 = (await p.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    expect(pid2).not.toBe(pid);
    await p.end();
  });

  it('destroys a client whose connection broke while checked out', async () => {
    const p = pool({ max: 1 });
    const c: PoolClient = await p.connect();
    c.on('error', () => undefined); // the holder hears about it
    const pid = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await cluster.query('SELECT pg_terminate_backend($1)', [pid]);
    await expect(c.query('SELECT 1')).rejects.toThrow();
    c.release();
    await until(() => p.totalCount === 0);
    expect((await p.query('SELECT 1 AS n')).rows[0].n).toBe(1);
    await p.end();
  });
});

describe('end', () => {
  it('closes every client, waits for checked-out ones, then refuses work', async () => {
    const p = pool({ max: 2 });
    await Promise.all([p.query('SELECT 1'), p.query('SELECT 2')]);
    const held = await p.connect();
    const ended = p.end();
    expect(p.ending).toBe(true);
    await expect(p.query('SELECT 1')).rejects.toThrow('Cannot use a pool after calling end on the pool');
    let done = false;
    void ended.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    held.release();
    await ended;
    expect(p.ended).toBe(true);
    await until(async () => (await backends()) === 0);
    await expect(p.end()).rejects.toThrow('Called end on pool more than once');
  });

  it('end(callback) works on a pool never used', async () => {
    const p = pool();
    await new Promise<void>((resolve, reject) => p.end((err) => (err ? reject(err) : resolve())));
    expect(p.ended).toBe(true);
  });
});

describe('plugins and the process', () => {
  it('surfaces a plugin that fails to set up on ready() and on every query', async () => {
    class Broken {
      static readonly plugin = { name: 'broken', configKey: 'broken', configSchema: z.object({}) };
      setup(): void {
        throw new Error('no can do');
      }
    }
    const p = pool({ plugins: [Broken] });
    await expect(p.ready()).rejects.toMatchObject({ code: 'WEIR_E_PLUGIN_SETUP_FAILED' });
    await expect(p.query('SELECT 1')).rejects.toThrow(/no can do/);
    await p.end();
  });

  it('lets the process exit while clients are idle with allowExitOnIdle', () => {
    const script = `
      const { Pool } = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'index.js'))});
      const pool = new Pool({ connectionString: process.argv[1], allowExitOnIdle: true });
      pool.query('SELECT 1 AS n').then((r) => console.log('got', r.rows[0].n));
    `;
    const r = spawnSync(process.execPath, ['-e', script, cluster.url({ database: 'appdb', user: 'app', password: 'secret' })], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout.trim()).toBe('got 1');
    expect(r.status).toBe(0); // exited by itself, without pool.end()
  });
});

describe('tenants without a resolvePool plugin', () => {
  it('pool.for() says to add DynamicPoolsPlugin', async () => {
    const p = pool();
    await expect(p.for({ database: 'appdb', user: 'other' }).query('SELECT 1')).rejects.toMatchObject({ code: 'WEIR_E_NO_POOL' });
    await p.end();
  });
});
