/**
 * Runs one fuzz case on a raw logged-in socket, and checks the invariants after it: weir is
 * alive, a control client on the same pool gets right answers (plain, in a transaction on every
 * server connection, and pipelined) within a bound, weir never holds more than pool_size server
 * connections, and weir logged no error-level line or stack trace.
 */
import pg from 'pg';
import { adminShow, rawLogin, sleep, USERS, type WeirInstance } from '../helpers.js';
import { writesOf, type FuzzCase } from './cases.js';
import * as W from './wire.js';

/** A control client that has no answer after this long means a hang (a poisoned server connection). */
export const CONTROL_BOUND_MS = 10_000;

export interface Target {
  weir: WeirInstance;
  /** The pool (and server database) this weir alone serves, so pg_stat_activity of it is this weir's count. */
  database: string;
  poolSize: number;
  /** pg_stat_activity client backends of `database`. */
  countServers(): Promise<number>;
  /** weir.logs index up to which lines were already checked. */
  logFrom: number;
}

export interface Failure {
  invariant: 'alive' | 'control' | 'pipeline' | 'servers' | 'log' | 'login';
  detail: string;
}

/** Rejects with `what` if `p` has not settled after `ms`; `onTimeout` may tear down what hangs. */
export async function within<T>(ms: number, what: string, p: Promise<T>, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`no answer within ${ms} ms: ${what}`));
    }, ms);
  });
  try {
    return await Promise.race([p, bound]);
  } finally {
    clearTimeout(timer);
  }
}

export interface CaseOutcome {
  closedByWeir: boolean;
  replyBytes: number;
}

/** Log in (md5), make the case's writes (pausing where it says), then end it its way. */
export async function runCase(port: number, database: string, c: FuzzCase): Promise<CaseOutcome> {
  const s = await rawLogin(port, USERS.md5, database);
  let closed = false;
  s.socket.once('close', () => (closed = true));
  try {
    for (const w of writesOf(c)) {
      if (closed) break;
      s.socket.write(w.bytes);
      if (w.pause) await sleep(15);
    }
    if (c.ending === 'terminate' && !closed) s.socket.end(W.terminate());
    if (c.ending === 'end' && !closed) s.socket.end();
    if (c.ending === 'destroy') s.socket.destroy();
    // Bytes in flight arrive; a closing weir closes. 'linger' waits longest for replies.
    const r = c.ending === 'destroy' ? { data: Buffer.alloc(0), closed } : await s.next(c.ending === 'linger' ? 200 : 60);
    return { closedByWeir: r.closed && c.ending !== 'destroy', replyBytes: r.data.length };
  } finally {
    s.socket.destroy();
  }
}

/** Two clients in a transaction at once (so every one of pool_size 2 server connections is used), each checking a token. */
async function controlClients(weir: WeirInstance, database: string, n: number, tag: string): Promise<void> {
  const clients = Array.from({ length: n }, () => {
    const c = new pg.Client({ host: '127.0.0.1', port: weir.port, user: USERS.md5.name, password: USERS.md5.password, database });
    c.on('error', () => {});
    return c;
  });
  const kill = () => clients.forEach((c) => (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy());
  const one = async (c: pg.Client, i: number) => {
    await c.connect();
    const tok = `${tag}-${i}`;
    await c.query('BEGIN');
    const r = await c.query<{ tok: string }>('select $1::text as tok', [tok]);
    if (r.rows[0]?.tok !== tok) throw new Error(`control client ${i} asked for ${tok}, got ${JSON.stringify(r.rows)}`);
    const multi = (await c.query('select 1 as one; select 2 as two')) as unknown as pg.QueryResult[];
    const got = Array.isArray(multi) ? multi.map((x) => Object.values(x.rows[0] ?? {})[0]) : multi;
    if (JSON.stringify(got) !== '[1,2]') throw new Error(`control client ${i}: multi-statement answered ${JSON.stringify(got)}`);
    await c.query('COMMIT');
  };
  try {
    await within(CONTROL_BOUND_MS, `${n} control clients (BEGIN; select token; select 1; select 2; COMMIT)`,
      Promise.all(clients.map(one)), kill);
  } finally {
    kill();
  }
}

/** One write: two extended-protocol queries with Syncs and a simple Query; answers must come back in order. */
async function pipelined(weir: WeirInstance, database: string, tag: string): Promise<void> {
  const s = await within(CONTROL_BOUND_MS, 'raw control login', rawLogin(weir.port, USERS.md5, database));
  try {
    const want = [`${tag}-a`, `${tag}-b`, '3'];
    s.socket.write(Buffer.concat([
      ...want.slice(0, 2).flatMap((t) => [W.parse('', 'select $1::text'), W.bind('', '', [], [Buffer.from(t)]), W.execute('', 0), W.sync()]),
      W.query('select 3'),
    ]));
    const got: string[] = [];
    const seen: string[] = [];
    for (let ready = 0, n = 0; ready < 3 && n < 100; n++) {
      const m = await s.readMsg(CONTROL_BOUND_MS);
      seen.push(m.type);
      if (m.type === 'D') got.push(m.body.toString('utf8', 6, 6 + m.body.readInt32BE(2)));
      if (m.type === 'E') throw new Error(`pipelined control got an error: ${m.body.toString('latin1').replace(/\0/g, ' ')}`);
      if (m.type === 'Z') ready++;
    }
    if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`pipelined control wanted ${want}, got ${got} (messages ${seen.join('')})`);
    s.socket.write(W.terminate());
  } finally {
    s.socket.destroy();
  }
}

const BAD_LOG = /"level":\s*(50|60)\b|^\s+at .+:\d+:\d+\)?$|\b(TypeError|RangeError|ReferenceError|AssertionError)\b|FATAL ERROR|Uncaught|heap out of memory/;
const FRAME = /^\s+at (.+?) \((?:.*\/)?((?:packages|plugins)\/[^:]+):\d+:\d+\)$/;

/**
 * Where weir's code threw, from its log lines: the error line (the one before the first stack
 * frame), its WEIR_E_ code, and the first two frames outside @weir/protocol (the caller that let it escape).
 */
export function crashSite(lines: string[]): string {
  const first = lines.findIndex((l) => /^\s+at /.test(l));
  if (first < 0) return lines.filter((l) => BAD_LOG.test(l)).slice(0, 2).join(' / ');
  const head = (lines[first - 1] ?? '').trim().slice(0, 200);
  const code = lines.slice(first).map((l) => /code: '(WEIR_E_\w+)'/.exec(l)?.[1]).find(Boolean) ?? '';
  const frames = lines.slice(first).map((l) => FRAME.exec(l)).filter((m) => m && !m[2]!.startsWith('packages/protocol/'))
    .slice(0, 2).map((m) => `${m![1]} (${m![2]})`);
  return `${head} ${code} at ${frames.join(' < ')}`;
}

/** weir's new log lines since the last check (and moves the mark). */
function newLogLines(t: Target): string[] {
  const lines = t.weir.logs.slice(t.logFrom);
  t.logFrom += lines.length;
  return lines;
}

export function alive(weir: WeirInstance): boolean {
  return weir.process.exitCode === null && weir.process.signalCode === null;
}

/** After a failed check, give a dying weir a moment to be seen dead (bounded). */
async function settle(weir: WeirInstance): Promise<void> {
  for (let i = 0; i < 10 && alive(weir); i++) await sleep(100);
}

/** All invariants; an empty list means the case left weir healthy. */
export async function checkInvariants(t: Target, tag: string): Promise<Failure[]> {
  const out: Failure[] = [];
  const dead = (): Failure[] => [{ invariant: 'alive', detail: `weir exited (code ${t.weir.process.exitCode}, signal ${t.weir.process.signalCode}): ${crashSite(newLogLines(t))}` }];
  if (!alive(t.weir)) return dead();
  try {
    await controlClients(t.weir, t.database, t.poolSize, tag);
  } catch (e) {
    out.push({ invariant: 'control', detail: (e as Error).message });
  }
  if (out.length === 0) {
    try {
      await pipelined(t.weir, t.database, tag);
    } catch (e) {
      out.push({ invariant: 'pipeline', detail: (e as Error).message });
    }
  }
  if (out.length) await settle(t.weir);
  if (!alive(t.weir)) return dead();
  const servers = await t.countServers();
  if (servers > t.poolSize) out.push({ invariant: 'servers', detail: `pg_stat_activity shows ${servers} server connections, pool_size is ${t.poolSize}` });
  try {
    const pools = await within(CONTROL_BOUND_MS, 'SHOW POOLS', adminShow(t.weir.port, 'POOLS'));
    for (const p of pools.rows) {
      const held = Number(p.sv_active) + Number(p.sv_idle);
      if (held > t.poolSize) out.push({ invariant: 'servers', detail: `SHOW POOLS ${p.database}/${p.user}: sv_active+sv_idle=${held} > pool_size ${t.poolSize}` });
    }
  } catch (e) {
    out.push({ invariant: 'control', detail: `admin console: ${(e as Error).message}` });
  }
  const lines = newLogLines(t);
  if (lines.some((l) => BAD_LOG.test(l))) out.push({ invariant: 'log', detail: crashSite(lines) });
  return out;
}
