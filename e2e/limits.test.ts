/**
 * Limits and failures weir must answer clearly: query_wait_timeout, client_login_timeout,
 * a PostgreSQL that is not there or goes away, and a client that does not read (backpressure).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startWeir, type WeirInstance } from '@weir/testkit';
import {
  parseErrorResponse,
  probe,
  queryMessage,
  queryOnce,
  rawLogin,
  rejection,
  sleep,
  startStack,
  USERS,
  weirConfig,
  type Stack,
} from './helpers.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    name: 'e2e-limits',
    poolMode: 'transaction',
    poolSize: 1,
    general: { query_wait_timeout: '1s', client_login_timeout: '1s', connect_timeout: '2s' },
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe('query_wait_timeout (1s, pool_size 1)', () => {
  it('a client that cannot get a server in time gets an error; the holder is unaffected', async () => {
    const a = new pg.Client(stack.conn());
    a.on('error', () => {});
    await a.connect();
    try {
      await a.query('BEGIN');
      await a.query('select 1');
      const e = await rejection(queryOnce(stack.conn(), 'select 2'));
      expect(e.code, String(e)).toMatch(/^[0-9A-Z]{5}$/);
      expect(e.message).toMatch(/timeout|wait|within|available/i);
      // The holder's transaction goes on and commits.
      expect((await a.query('select 3 as n')).rows[0].n).toBe(3);
      await a.query('COMMIT');
    } finally {
      await a.end().catch(() => {});
    }
    // And once the server is free, new clients are served.
    expect((await queryOnce(stack.conn(), 'select 4 as n'))[0].n).toBe(4);
  });
});

describe('client_login_timeout (1s)', () => {
  it('a socket that never sends a startup is closed', async () => {
    const r = await probe(stack.weir.port, [], { waitMs: 30_000 });
    expect(r.closed).toBe(true);
    const err = parseErrorResponse(r.data);
    if (err) expect(err.C).toMatch(/^[0-9A-Z]{5}$/);
  });

  it('a socket that stops in the middle of authentication is closed', async () => {
    // Startup for a SCRAM user, then never answer the SASL challenge.
    const head = Buffer.alloc(8);
    const body = Buffer.from(`user\0${USERS.plain.name}\0database\0appdb\0\0`);
    head.writeInt32BE(8 + body.length, 0);
    head.writeInt32BE(196608, 4);
    const r = await probe(stack.weir.port, [Buffer.concat([head, body])], { waitMs: 30_000 });
    expect(r.closed).toBe(true);
    expect(r.data[0]).toBe('R'.charCodeAt(0)); // it was asked to authenticate first
  });
});

describe('a PostgreSQL that is not there', () => {
  let w: WeirInstance | undefined;
  afterAll(async () => {
    await w?.stop();
  });

  it('clients get a clear ErrorResponse, not a hang; weir keeps running', async () => {
    const deadPort = await freePort();
    w = await startWeir({
      config: weirConfig({
        clusterPort: deadPort,
        poolMode: 'transaction',
        poolSize: 2,
        general: { connect_timeout: '2s', query_wait_timeout: '5s' },
        users: [{ username: USERS.plain.name, password: USERS.plain.password }],
      }),
    });
    for (let i = 0; i < 3; i++) {
      const e = await rejection(queryOnce(
        { host: '127.0.0.1', port: w.port, user: USERS.plain.name, password: USERS.plain.password, database: 'appdb',
          connectionTimeoutMillis: 60_000, query_timeout: 60_000 } as pg.ClientConfig,
        'select 1',
      ));
      expect(e.code, `${e}`).toMatch(/^(08|57|53|58|XX)[0-9A-Z]{3}$/);
    }
    // Still alive: the admin console answers.
    const adm = await queryOnce({ host: '127.0.0.1', port: w.port, user: 'admin', password: 'admin', database: 'weir' }, 'SHOW VERSION');
    expect(adm).toHaveLength(1);
  });
});

describe('backpressure', () => {
  it('a client that does not read: PostgreSQL is held back and weir memory stays bounded', async () => {
    const rss = () => {
      const status = readFileSync(`/proc/${stack.weir.process.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
    };
    const before = rss();
    const s = await rawLogin(stack.weir.port);
    s.socket.pause(); // read nothing from here on
    // About 1.6 GB of result.
    s.socket.write(queryMessage(`select repeat('x', 8000) || g /* backpressure */ from generate_series(1, 200000) g`));
    let maxRss = before;
    let serverBlocked = false;
    try {
      for (let i = 0; i < 100 && !serverBlocked; i++) {
        await sleep(100);
        maxRss = Math.max(maxRss, rss());
        const rows = await stack.cluster.query(
          `select wait_event from pg_stat_activity where query like '%/* backpressure */%' and state = 'active' and pid <> pg_backend_pid()`,
        );
        serverBlocked = rows.some((r) => r.wait_event === 'ClientWrite');
      }
      // A few more samples while blocked.
      for (let i = 0; i < 10; i++) {
        await sleep(100);
        maxRss = Math.max(maxRss, rss());
      }
      expect(serverBlocked).toBe(true);
      expect(maxRss - before, `weir RSS grew from ${before} to ${maxRss} bytes`).toBeLessThan(256 * 1024 * 1024);
    } finally {
      s.socket.destroy();
    }
    // The client is gone; with pool_size 1 the pool must recover (the server connection is
    // cleaned up or replaced) and serve the next client.
    let ok = false;
    const errors: string[] = [];
    for (let i = 0; i < 20 && !ok; i++) {
      try {
        ok = (await queryOnce({ ...stack.conn(), query_timeout: 10_000 } as pg.ClientConfig, 'select 1 as n'))[0].n === 1;
      } catch (e) {
        errors.push(String(e));
        await sleep(500);
      }
    }
    expect(ok, errors.join(' | ')).toBe(true);
  });
});

describe('a client that reads in bursts', () => {
  it('receives every row intact: bytes weir could not write at once are not overwritten by the next read', async () => {
    const ROWS = 20_000;
    const s = await rawLogin(stack.weir.port);
    try {
      s.socket.write(queryMessage(`select g || ':' || repeat(md5(g::text), 64) from generate_series(1, ${ROWS}) g, pg_sleep(0.0001)`));
      const bad: string[] = [];
      let rows = 0;
      for (let i = 0; i < ROWS + 10; i++) {
        if (rows % 2000 === 0) {
          // Stop reading for a moment: weir's writes to this client go partial and queue.
          s.socket.pause();
          await sleep(300);
          s.socket.resume();
        }
        const m = await s.readMsg(10_000);
        if (m.type === 'Z') break;
        if (m.type !== 'D') continue;
        rows++;
        const len = m.body.readInt32BE(2);
        const value = m.body.toString('utf8', 6, 6 + len);
        const expected = `${rows}:${createHash('md5').update(String(rows)).digest('hex').repeat(64)}`;
        if (value !== expected && bad.length < 3) bad.push(`row ${rows}: ${value.slice(0, 60)}…`);
      }
      expect(bad).toEqual([]);
      expect(rows).toBe(ROWS);
    } finally {
      s.socket.destroy();
    }
  });
});

describe('PostgreSQL stopped while weir runs (last: it stops the cluster)', () => {
  it('queries get an ErrorResponse, weir stays up', async () => {
    expect((await queryOnce(stack.conn(USERS.scram), 'select 1 as n'))[0].n).toBe(1);
    await stack.cluster.stop();
    for (let i = 0; i < 3; i++) {
      const e = await rejection(queryOnce(
        { ...stack.conn(USERS.plain), connectionTimeoutMillis: 60_000, query_timeout: 60_000 } as pg.ClientConfig,
        'select 1',
      ));
      expect(e.code, `${e}`).toMatch(/^(08|57|53|58|XX)[0-9A-Z]{3}$/);
    }
    const adm = await queryOnce({ host: '127.0.0.1', port: stack.weir.port, user: 'admin', password: 'admin', database: 'weir' }, 'SHOW VERSION');
    expect(adm).toHaveLength(1);
  });
});
