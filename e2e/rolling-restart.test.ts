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
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminShow, pgbench, PSQL, run, startStack, USERS, type Stack, type WeirInstance } from './helpers.js';

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
