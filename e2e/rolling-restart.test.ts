/**
 * Rolling restart with no failed transaction: weir A listens with general.so_reuseport; pgbench
 * -C (a new connection per transaction) runs against its port; weir B starts on the same port
 * (the kernel spreads new connections over both); A gets SIGTERM: it stops accepting (what its
 * accept queue holds is taken and served), lets transactions in flight finish, closes each client
 * as its transaction ends, and exits. pgbench reports 0 failed transactions and no aborted client,
 * and both processes served clients; the unix socket (general.unix_socket_dir) is B's afterwards.
 * Runs on the native path (project e2e) and on node:net
 * (e2e-node, WEIR_IO=node: the addon binds the socket and node:net listens on its descriptor).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import {
  adminShow, frontendMessage, parseErrorResponse, pgbench, PSQL, queryMessage, rawSocket, run, startStack, startupMessage, USERS,
  type Stack, type WeirInstance,
} from './helpers.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ name: 'e2e-rolling', poolSize: 4, general: { query_wait_timeout: '60s' } });
  const init = await pgbench(stack.cluster.port, { user: USERS.md5.name, password: USERS.md5.password, args: ['-i', '-s', '1', '-q'] });
  if (init.code !== 0) throw new Error(`pgbench -i failed:\n${init.stdout}\n${init.stderr}`);
});

afterAll(async () => {
  await stack?.stop();
});

const LOGIN = /client connected: app@appdb/;
const logins = (w: WeirInstance, from = 0) => w.logs.slice(from).filter((l) => LOGIN.test(l)).length;

/** Resolves once `w` has logged `n` client logins since line `from` (bounded: rejects after `ms`). */
async function loginsReach(w: WeirInstance, n: number, from: number, ms: number): Promise<void> {
  let seen = from;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const line = await w.waitForLog(LOGIN, ms, seen);
    seen = w.logs.indexOf(line, seen) + 1;
    count++;
  }
  expect(count).toBe(n);
}

/** Backend messages off a raw socket, each read raced against a bound. */
function reader(socket: net.Socket) {
  let buf = Buffer.alloc(0);
  let closed = false;
  let wake: (() => void) | null = null;
  socket.on('data', (d) => { buf = Buffer.concat([buf, d]); wake?.(); });
  socket.on('close', () => { closed = true; wake?.(); });
  socket.on('error', () => {});
  return {
    async next(ms = 10_000): Promise<{ type: string; body: Buffer } | 'closed'> {
      const deadline = Date.now() + ms;
      while (buf.length < 5 || buf.length < 1 + buf.readInt32BE(1)) {
        if (closed) return 'closed';
        if (Date.now() >= deadline) throw new Error(`no whole message within ${ms} ms (have ${buf.length} bytes)`);
        await new Promise<void>((r) => { wake = r; setTimeout(r, 100); });
        wake = null;
      }
      const len = buf.readInt32BE(1);
      const m = { type: String.fromCharCode(buf[0]!), body: buf.subarray(5, 1 + len) };
      buf = buf.subarray(1 + len);
      return m;
    },
  };
}

/** A message back as wire bytes (for parseErrorResponse). */
const wire = (m: { type: string; body: Buffer }) => frontendMessage(m.type, m.body);

describe('SIGTERM closes clients at transaction boundaries only', () => {
  it('a client still logging in finishes its login; it and a logged-in idle client each run one more transaction, then are closed', async () => {
    const w = await stack.startAnotherWeir({ general: { shutdown_timeout: '60s' } });
    const idle = new pg.Client(stack.conn(USERS.md5, 'appdb', w.port));
    idle.on('error', () => {}); // its 57P01 when weir closes it
    await idle.connect();
    const raw = await rawSocket(w.port); // connected, startup not sent yet
    const r = reader(raw);
    const mark = w.logs.length;
    const exited = w.stop('SIGTERM');
    try {
      await w.waitForLog(/weir shutting down/, 10_000, mark);
      // Login after the signal: answered with an md5 challenge, not 57P03.
      raw.write(startupMessage({ user: USERS.md5.name, database: 'appdb' }));
      const challenge = await r.next();
      expect(challenge !== 'closed' && challenge.type, JSON.stringify(challenge !== 'closed' && parseErrorResponse(wire(challenge)))).toBe('R');
      const salt = (challenge as { body: Buffer }).body.subarray(4, 8);
      const inner = createHash('md5').update(USERS.md5.password + USERS.md5.name).digest('hex');
      raw.write(frontendMessage('p', `md5${createHash('md5').update(Buffer.concat([Buffer.from(inner), salt])).digest('hex')}\0`));
      const types: string[] = [];
      for (let i = 0; i < 50; i++) {
        const m = await r.next();
        if (m === 'closed') break;
        types.push(m.type);
        if (m.type === 'Z') break;
      }
      expect(types[0]).toBe('R'); // AuthenticationOk
      expect(types.at(-1)).toBe('Z');
      // Its transaction runs, then weir closes it (57P01 after the ReadyForQuery).
      raw.write(queryMessage('select 7'));
      const after: string[] = [];
      let fatal: Record<string, string> | undefined;
      for (let i = 0; i < 50; i++) {
        const m = await r.next();
        if (m === 'closed') { after.push('closed'); break; }
        after.push(m.type);
        if (m.type === 'E') fatal = parseErrorResponse(wire(m));
      }
      expect(after).toEqual(['T', 'D', 'C', 'Z', 'E', 'closed']);
      expect(fatal?.C).toBe('57P01');
      // The idle client that logged in before the signal: served once more, then closed.
      expect((await idle.query('select 8 as n')).rows).toEqual([{ n: 8 }]);
      expect(await exited, w.logs.slice(-20).join('\n')).toBe(0);
      await expect(idle.query('select 9')).rejects.toThrow();
    } finally {
      raw.destroy();
      await idle.end().catch(() => {});
      await exited.catch(() => {});
    }
  });
});

describe('rolling restart on a shared port (general.so_reuseport)', () => {
  it('without so_reuseport a second weir cannot listen on the port', async () => {
    const a = await stack.startAnotherWeir({});
    await expect(stack.startAnotherWeir({ general: { port: a.port } })).rejects.toThrow(/EADDRINUSE|address already in use/i);
    expect(await a.stop('SIGTERM')).toBe(0);
  });

  it('pgbench -C across a switch from weir A to weir B: 0 failed transactions, both served', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-rolling-'));
    fs.chmodSync(dir, 0o755);
    const a = await stack.startAnotherWeir({ general: { so_reuseport: 'true', shutdown_timeout: '30s', unix_socket_dir: dir } });
    const port = a.port;
    const bench = pgbench(port, {
      user: USERS.md5.name,
      password: USERS.md5.password,
      // tpcb-like: BEGIN … END, five statements a transaction (-M simple: one ReadyForQuery each),
      // so a switch lands inside transactions as well as between them.
      args: ['-n', '-C', '-M', 'simple', '-c', '8', '-j', '2', '-T', '12'],
      timeoutMs: 120_000,
    });
    let b: WeirInstance | undefined;
    try {
      await loginsReach(a, 50, 0, 30_000);
      b = await stack.startAnotherWeir({ general: { so_reuseport: 'true', port, unix_socket_dir: dir } });
      expect(b.port).toBe(port);
      // The kernel hands new connections to both: wait until B has served some.
      await loginsReach(b, 20, 0, 30_000);
      const aBefore = logins(a);
      const mark = a.logs.length;
      const code = await a.stop('SIGTERM');
      expect(code, a.logs.slice(-20).join('\n')).toBe(0);
      expect(a.logs.slice(mark).some((l) => /weir shutting down/.test(l))).toBe(true);
      expect(aBefore).toBeGreaterThan(0);
      // After A left, B alone serves pgbench to the end of its run.
      const bAfterA = logins(b);
      const result = await bench;
      const out = `${result.stdout}\n${result.stderr}`;
      expect(result.code, out).toBe(0);
      expect(out).not.toMatch(/aborted|error:/i);
      expect(out).toMatch(/number of failed transactions: 0 \(0\.000%\)/);
      const processed = Number(/number of transactions actually processed: (\d+)/.exec(out)?.[1] ?? 0);
      expect(processed, out).toBeGreaterThan(0);
      expect(logins(b), 'B kept serving after A exited').toBeGreaterThan(bAfterA);
      // B's own counters (A is gone: the port's admin console is B's).
      const stats = await adminShow(port, 'STATS');
      const row = stats.rows.find((r) => r.database === 'appdb');
      expect(Number(row?.total_xact_count ?? 0)).toBeGreaterThan(0);
      expect(Number(row.total_xact_count)).toBeLessThan(processed);
      // A closing did not take B's unix socket with it.
      const unix = await run(PSQL, ['-X', '-At', '-h', dir, '-p', String(port), '-U', USERS.md5.name, '-d', 'appdb', '-c', 'select 42'],
        { env: { PGPASSWORD: USERS.md5.password } });
      expect(unix.stdout.trim(), unix.stderr).toBe('42');
    } finally {
      await bench.catch(() => {});
      await b?.stop('SIGINT').catch(() => {});
      await a.stop('SIGKILL').catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
