/**
 * weir under trouble: PostgreSQL restarted under load, SIGTERM with a transaction open,
 * hostile bytes on the wire, thousands of half-open sockets, 1,000 concurrent clients.
 */
import { execSync } from 'node:child_process';
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminShow,
  parseErrorResponse,
  probe,
  queryMessage,
  queryOnce,
  rawLogin,
  rawSocket,
  rejection,
  serverConnectionCounter,
  sleep,
  startStack,
  startupMessage,
  USERS,
  type Stack,
} from './helpers.js';

const FD_LIMIT = Number(execSync('ulimit -n', { shell: '/bin/bash', encoding: 'utf8' }).trim()) || 1024;
/** 1,000 clients need ~1,000 sockets in this process and ~1,010 in weir: fall back to 900 under a 1024 limit. */
const MANY = FD_LIMIT >= 1200 ? 1000 : 900;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    name: 'e2e-resilience',
    poolMode: 'transaction',
    poolSize: 4,
    general: { query_wait_timeout: '30s' },
  });
  await stack.cluster.query(
    `CREATE TABLE t (id serial primary key, v text); GRANT ALL ON t, t_id_seq TO PUBLIC;`,
    [],
    { database: 'appdb' },
  );
});

afterAll(async () => {
  await stack?.stop();
});

/** One query on a fresh client; resolves true/false, never throws. */
async function tryQuery(port = stack.weir.port): Promise<{ ok: boolean; error?: string }> {
  const c = new pg.Client({ ...stack.conn(USERS.md5, 'appdb', port), connectionTimeoutMillis: 10_000 });
  c.on('error', () => {});
  try {
    await c.connect();
    const r = await c.query('select 1 as one');
    return { ok: r.rows[0].one === 1 };
  } catch (e) {
    return { ok: false, error: `${(e as any).code ?? ''} ${(e as Error).message}` };
  } finally {
    await c.end().catch(() => {});
  }
}

async function weirStillServes(): Promise<void> {
  const rows = await queryOnce(stack.conn(), 'select 42 as n');
  expect(rows[0].n).toBe(42);
}

describe('PostgreSQL restarted while weir runs under load', () => {
  it('new queries succeed after the restart (20 in a row), and an idle client survives it', async () => {
    const idle = new pg.Client(stack.conn(USERS.plain));
    idle.on('error', () => {});
    await idle.connect();
    expect((await idle.query('select 1 as n')).rows[0].n).toBe(1);

    // Small load: 4 workers on a pg.Pool through weir, bounded by count.
    const pool = new pg.Pool({ ...stack.conn(), max: 8 });
    pool.on('error', () => {});
    let stop = false;
    const stats = { ok: 0, failed: 0, errors: new Set<string>() };
    const workers = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 5_000 && !stop; i++) {
        try {
          await pool.query('select pg_sleep(0.005), $1::int as i', [i]);
          stats.ok++;
        } catch (e) {
          stats.failed++;
          stats.errors.add(`${(e as any).code ?? ''} ${(e as Error).message}`);
          await sleep(20);
        }
      }
    });
    try {
      await sleep(300);
      const okBefore = stats.ok;
      expect(okBefore).toBeGreaterThan(0);
      await stack.cluster.restart();

      // Bounded retry: a few errors right at the restart are allowed, then 20 consecutive successes.
      let consecutive = 0;
      const failures: string[] = [];
      for (let attempt = 0; attempt < 300 && consecutive < 20; attempt++) {
        const r = await tryQuery();
        if (r.ok) consecutive++;
        else {
          consecutive = 0;
          failures.push(r.error ?? '?');
          await sleep(100);
        }
      }
      expect(consecutive, `failures after restart: ${failures.join(' | ')}`).toBe(20);
      expect(failures.length, failures.join(' | ')).toBeLessThanOrEqual(20);

      // The load goes on too.
      const okAfterRestart = stats.ok;
      for (let i = 0; i < 100 && stats.ok < okAfterRestart + 20; i++) await sleep(50);
      expect(stats.ok).toBeGreaterThanOrEqual(okAfterRestart + 20);
    } finally {
      stop = true;
      await Promise.all(workers);
      await pool.end().catch(() => {});
    }

    // The client that sat idle (no transaction) through the restart: a few errors are allowed
    // (its next server may be a dead one), then it works — it is not cut off.
    let idleOk = false;
    const idleErrors: string[] = [];
    for (let i = 0; i < 10 && !idleOk; i++) {
      try {
        idleOk = (await idle.query('select 2 as n')).rows[0].n === 2;
      } catch (e) {
        idleErrors.push(`${(e as any).code ?? ''} ${(e as Error).message}`);
      }
    }
    await idle.end().catch(() => {});
    expect(idleOk, `idle client errors: ${idleErrors.join(' | ')}`).toBe(true);

    // Every server connection weir lists is a live backend of the restarted server.
    const { rows } = await adminShow(stack.weir.port, 'SERVERS');
    const live = new Set(
      (await stack.cluster.query<{ pid: number }>(`select pid from pg_stat_activity where datname = 'appdb'`)).map((r) => r.pid),
    );
    const listed = rows.filter((r) => r.database === 'appdb' && r.backend_pid !== null && r.backend_pid !== undefined);
    for (const s of listed) expect(live.has(Number(s.backend_pid)), JSON.stringify(s)).toBe(true);
  });
});

describe('PostgreSQL restarted: session mode', () => {
  it('idle pooled server connections that died are replaced; new sessions work (20 in a row)', async () => {
    const w = await stack.startAnotherWeir({ poolMode: 'session', poolSize: 2 });
    try {
      // Fill the pool with two idle server connections.
      const two = await Promise.all([0, 1].map(async () => {
        const c = new pg.Client(stack.conn(USERS.md5, 'appdb', w.port));
        c.on('error', () => {});
        await c.connect();
        await c.query('select 1');
        return c;
      }));
      await Promise.all(two.map((c) => c.end()));
      await stack.cluster.restart();
      let consecutive = 0;
      const failures: string[] = [];
      for (let attempt = 0; attempt < 300 && consecutive < 20; attempt++) {
        const r = await tryQuery(w.port);
        if (r.ok) consecutive++;
        else {
          consecutive = 0;
          failures.push(r.error ?? '?');
          await sleep(100);
        }
      }
      expect(consecutive, `failures: ${failures.join(' | ')}`).toBe(20);
      expect(failures.length, failures.join(' | ')).toBeLessThanOrEqual(20);
    } finally {
      await w.stop();
    }
  });
});

describe('SIGTERM with a transaction open', () => {
  it('the open transaction commits, new connections are refused, weir exits 0', async () => {
    const w = await stack.startAnotherWeir({ general: { shutdown_timeout: '30s' } });
    const c = new pg.Client(stack.conn(USERS.md5, 'appdb', w.port));
    const clientErrors: string[] = [];
    c.on('error', (e) => clientErrors.push(e.message));
    await c.connect();
    await c.query('BEGIN');
    await c.query(`INSERT INTO t (v) VALUES ('sigterm')`);
    const logMark = w.logs.length;
    const exited = w.stop('SIGTERM');
    let exitCode: number | null | undefined;
    void exited.then((code) => (exitCode = code));
    try {
      // Give weir a moment to act on the signal (bounded wait on its log, then go on regardless).
      await w.waitForLog(/shut|stop|drain|term/i, 3_000, logMark).catch(() => {});
      expect(exitCode).toBeUndefined(); // still waiting for our transaction

      // Stop accepting: a new connection fails (refused or an ErrorResponse).
      const e = await rejection(queryOnce({ ...stack.conn(USERS.md5, 'appdb', w.port), connectionTimeoutMillis: 10_000 }, 'select 1'));
      expect(e).toBeDefined();

      await c.query(`INSERT INTO t (v) VALUES ('sigterm-2')`);
      await c.query('COMMIT');
    } finally {
      await c.end().catch(() => {});
    }
    const rows = await stack.cluster.query(`select v from t where v like 'sigterm%' order by v`, [], { database: 'appdb' });
    expect(rows.map((r) => r.v)).toEqual(['sigterm', 'sigterm-2']);
    expect(await exited, w.logs.slice(-20).join('\n')).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Hostile input

const errorOrClosed = (r: { data: Buffer; closed: boolean }) => {
  const err = parseErrorResponse(r.data);
  return { err, ok: r.closed || err !== undefined };
};

describe('hostile input: each gets an error or a closed socket, weir keeps serving', () => {
  const cases: [string, Buffer[], { end?: boolean }?][] = [
    ['an HTTP request', [Buffer.from('GET / HTTP/1.1\r\nHost: weir\r\n\r\n')]],
    ['1 KiB of random garbage', [Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 7919 + 13) & 0xff))]],
    ['a startup with length 0x7fffffff', [(() => {
      const b = Buffer.alloc(8);
      b.writeInt32BE(0x7fffffff, 0);
      b.writeInt32BE(196608, 4);
      return b;
    })()]],
    ['a startup with a negative length', [(() => {
      const b = Buffer.alloc(8);
      b.writeInt32BE(-1, 0);
      b.writeInt32BE(196608, 4);
      return b;
    })()]],
    ['a startup with length 4 (shorter than its own header)', [(() => {
      const b = Buffer.alloc(8);
      b.writeInt32BE(4, 0);
      b.writeInt32BE(196608, 4);
      return b;
    })()]],
    ['unknown protocol version 1234.5678', [startupMessage({ user: 'app', database: 'appdb' }, (1234 << 16) | 5678)]],
    ['protocol version 2.0', [startupMessage({ user: 'app', database: 'appdb' }, 2 << 16)]],
    ['a startup whose parameters are not NUL-terminated', [(() => {
      const body = Buffer.from('user\0app\0database\0appdb');
      const b = Buffer.alloc(8);
      b.writeInt32BE(8 + body.length, 0);
      b.writeInt32BE(196608, 4);
      return Buffer.concat([b, body]);
    })()]],
    ['a startup without a user', [startupMessage({ database: 'appdb' })]],
    ['SSLRequest then garbage', [(() => {
      const b = Buffer.alloc(8);
      b.writeInt32BE(8, 0);
      b.writeInt32BE(80877103, 4);
      return b;
    })(), Buffer.from('\x16\x03\x01garbage-that-is-not-tls')]],
  ];

  for (const [name, bytes] of cases) {
    it(name, async () => {
      const r = await probe(stack.weir.port, bytes, { waitMs: 15_000 });
      const { err, ok } = errorOrClosed(r);
      expect(ok, `no error and not closed; got ${r.data.length} bytes: ${r.data.subarray(0, 64).toString('hex')}`).toBe(true);
      if (err) expect(err.C ?? '', JSON.stringify(err)).toMatch(/^[0-9A-Z]{5}$/);
      await weirStillServes();
    });
  }

  for (const negotiate of ['ssl', 'gss'] as const) {
    it(`${negotiate === 'ssl' ? 'SSLRequest' : 'GSSENCRequest'} is answered 'N' and a plain login follows on the same socket`, async () => {
      const s = await rawLogin(stack.weir.port, USERS.md5, 'appdb', { negotiate });
      try {
        s.socket.write(queryMessage(`select 'after-${negotiate}'`));
        const types: string[] = [];
        let m;
        do {
          m = await s.readMsg(10_000);
          types.push(m.type);
        } while (m.type !== 'Z');
        expect(types.join('')).toBe('TDCZ');
      } finally {
        s.socket.destroy();
      }
    });
  }

  it('a startup packet over 10,000 bytes is refused', async () => {
    const r = await probe(stack.weir.port, [startupMessage({ user: 'app', database: 'appdb', application_name: 'x'.repeat(20_000) })], { waitMs: 15_000 });
    const { err, ok } = errorOrClosed(r);
    expect(ok).toBe(true);
    if (err) expect(err.C).toMatch(/^[0-9A-Z]{5}$/);
    await weirStillServes();
  });

  it('a CancelRequest with a wrong length, and one for an unknown key, change nothing', async () => {
    const bad = Buffer.alloc(12);
    bad.writeInt32BE(12, 0);
    bad.writeInt32BE(80877102, 4);
    bad.writeInt32BE(1, 8);
    await probe(stack.weir.port, [bad], { waitMs: 5_000 });
    const unknown = Buffer.alloc(16);
    unknown.writeInt32BE(16, 0);
    unknown.writeInt32BE(80877102, 4);
    unknown.writeInt32BE(0x7abcdef0, 8);
    unknown.writeInt32BE(12345, 12);
    const r = await probe(stack.weir.port, [unknown], { waitMs: 5_000 });
    expect(r.closed).toBe(true);
    expect(r.data.length).toBe(0); // PostgreSQL answers a CancelRequest with nothing
    await weirStillServes();
  });

  it('a second startup message after login is a protocol error, not a new session', async () => {
    const { socket, next } = await rawLogin(stack.weir.port);
    try {
      socket.write(startupMessage({ user: 'app', database: 'appdb' }));
      const r = await next(15_000);
      const { ok } = errorOrClosed(r);
      expect(ok, `got ${r.data.subarray(0, 64).toString('hex')}`).toBe(true);
    } finally {
      socket.destroy();
    }
    await weirStillServes();
  });

  it('a truncated startup, then close', async () => {
    const full = startupMessage({ user: 'app', database: 'appdb' });
    const r = await probe(stack.weir.port, [full.subarray(0, 11)], { waitMs: 1_000, end: true });
    expect(r.data.length === 0 || parseErrorResponse(r.data) !== undefined).toBe(true);
    await weirStillServes();
  });

  it('half a length word, then close', async () => {
    await probe(stack.weir.port, [Buffer.from([0, 0])], { waitMs: 1_000, end: true });
    await weirStillServes();
  });

  it('after login: a message claiming length 0x7fffffff', async () => {
    const { socket, next } = await rawLogin(stack.weir.port);
    try {
      const b = Buffer.alloc(5);
      b.write('Q', 0);
      b.writeInt32BE(0x7fffffff, 1);
      socket.write(Buffer.concat([b, Buffer.from('select 1;\0')]));
      const r = await next(15_000);
      const { err, ok } = errorOrClosed(r);
      expect(ok, `got ${r.data.subarray(0, 64).toString('hex')}`).toBe(true);
      if (err) expect(err.C).toMatch(/^[0-9A-Z]{5}$/);
    } finally {
      socket.destroy();
    }
    await weirStillServes();
  });

  it('after login: an unknown message type', async () => {
    const { socket, next } = await rawLogin(stack.weir.port);
    try {
      const b = Buffer.alloc(5);
      b.write('!', 0);
      b.writeInt32BE(4, 1);
      socket.write(b);
      const r = await next(15_000);
      const { ok } = errorOrClosed(r);
      expect(ok, `got ${r.data.subarray(0, 64).toString('hex')}`).toBe(true);
    } finally {
      socket.destroy();
    }
    await weirStillServes();
  });

  it('after login: a message with a negative length', async () => {
    const { socket, next } = await rawLogin(stack.weir.port);
    try {
      const b = Buffer.alloc(5);
      b.write('Q', 0);
      b.writeInt32BE(-5, 1);
      socket.write(b);
      const r = await next(15_000);
      const { ok } = errorOrClosed(r);
      expect(ok, `got ${r.data.subarray(0, 64).toString('hex')}`).toBe(true);
    } finally {
      socket.destroy();
    }
    await weirStillServes();
  });

  it('after login: client closes in the middle of a message; its server connection is not lost', async () => {
    const appConnections = async () => (await stack.cluster.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity where datname = 'appdb' and usename = $1`, [USERS.md5.name],
    ))[0]!.n;
    const before = await appConnections();
    const { socket } = await rawLogin(stack.weir.port);
    const q = Buffer.from('select pg_sleep(0);\0');
    const head = Buffer.alloc(5);
    head.write('Q', 0);
    head.writeInt32BE(4 + q.length, 1);
    socket.write(Buffer.concat([head, q.subarray(0, 5)]));
    await sleep(100);
    socket.destroy();
    // The pool still works, and stays within its size.
    await Promise.all(Array.from({ length: 8 }, () => weirStillServes()));
    // (pool_size 4 for the (appdb, app) pool)
    expect(await appConnections()).toBeLessThanOrEqual(Math.max(4, before));
  });

  it('no client sessions are left behind by the hostile connections', async () => {
    let clients = Infinity;
    for (let i = 0; i < 100; i++) {
      const { rows } = await adminShow(stack.weir.port, 'CLIENTS');
      clients = rows.filter((r) => r.database !== 'weir').length;
      if (clients === 0) break;
      await sleep(100);
    }
    expect(clients).toBe(0);
  });
});

/** Open 2,000 half-open sockets to `port`, run 20 normal clients meanwhile, then close them all. */
async function halfOpenWhileServing(port: number): Promise<void> {
  const sockets: net.Socket[] = [];
  const half = startupMessage({ user: 'app', database: 'appdb' }).subarray(0, 9);
  let connectErrors = 0;
  try {
    for (let batch = 0; batch < 20; batch++) {
      const opened = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          rawSocket(port).then(
            (s) => {
              s.on('error', () => {});
              if ((batch * 100 + i) % 2 === 1) s.write(half);
              return s;
            },
            () => {
              connectErrors++;
              return undefined;
            },
          )),
      );
      for (const s of opened) if (s) sockets.push(s);
    }
    expect(connectErrors).toBe(0);
    expect(sockets).toHaveLength(2000);

    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const c = new pg.Client({ ...stack.conn(i % 2 ? USERS.md5 : USERS.scram, 'appdb', port), connectionTimeoutMillis: 60_000 });
        c.on('error', () => {});
        try {
          await c.connect();
          let sum = 0;
          for (let k = 0; k < 10; k++) sum += (await c.query('select $1::int as v', [k])).rows[0].v;
          return sum;
        } catch (e) {
          return `${(e as any).code ?? ''} ${(e as Error).message}`;
        } finally {
          await c.end().catch(() => {});
        }
      }),
    );
    expect(results).toEqual(Array.from({ length: 20 }, () => 45));
  } finally {
    for (const s of sockets) s.destroy();
  }
  // After they are gone weir still serves, and forgets them (bounded look).
  expect((await queryOnce(stack.conn(USERS.md5, 'appdb', port), 'select 42 as n'))[0].n).toBe(42);
  let left = Infinity;
  for (let i = 0; i < 100; i++) {
    const { rows } = await adminShow(port, 'CLIENTS');
    left = rows.filter((r) => r.database !== 'weir').length;
    if (left === 0) break;
    await sleep(100);
  }
  expect(left).toBe(0);
}

describe('half-open sockets by the thousand', () => {
  it('max_client_conn 5000: 2,000 sockets that send nothing or half a startup; 20 normal clients all succeed meanwhile', async () => {
    const w = await stack.startAnotherWeir({ general: { max_client_conn: 5000 } });
    try {
      await halfOpenWhileServing(w.port);
    } finally {
      await w.stop();
    }
  });

  it('default config: 2,000 half-open sockets do not lock out the 20 normal clients', async () => {
    await halfOpenWhileServing(stack.weir.port);
  });
});

describe(`${MANY} concurrent clients${MANY < 1000 ? ` (not 1,000: ulimit -n is ${FD_LIMIT})` : ''}`, () => {
  it(`${MANY} node-postgres clients, one query each, on pool_size 10: all succeed, ≤ 10 server connections`, async () => {
    const w = await stack.startAnotherWeir({ poolSize: 10, general: { query_wait_timeout: '120s' } });
    const counter = await serverConnectionCounter(stack.cluster);
    let polling = true;
    let maxSeen = 0;
    const poller = (async () => {
      for (let i = 0; i < 20_000 && polling; i++) {
        maxSeen = Math.max(maxSeen, await counter.count('appdb'));
        await sleep(20);
      }
    })();
    // The main weir (pool 4) keeps its idle server connections: count only the new weir's.
    const baseline = await counter.count('appdb');
    try {
      const outcomes = await Promise.all(
        Array.from({ length: MANY }, async (_, i) => {
          const c = new pg.Client({ ...stack.conn(USERS.md5, 'appdb', w.port), connectionTimeoutMillis: 120_000 });
          c.on('error', () => {});
          try {
            await c.connect();
            const r = await c.query('select $1::int as i', [i]);
            return r.rows[0].i === i ? 'ok' : `wrong answer ${r.rows[0].i}`;
          } catch (e) {
            return `${(e as any).code ?? ''} ${(e as Error).message}`;
          } finally {
            await c.end().catch(() => {});
          }
        }),
      );
      const failures = outcomes.filter((o) => o !== 'ok');
      expect(failures.length, [...new Set(failures)].slice(0, 5).join(' | ')).toBe(0);
    } finally {
      polling = false;
      await poller;
      await counter.close();
      await w.stop();
    }
    expect(maxSeen - baseline).toBeLessThanOrEqual(10);
  });
});
