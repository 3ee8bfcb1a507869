/**
 * Hostile clients after login, on the forwarding path (issue 10): a lying header must never leave
 * half a message on a server connection that another client gets next; work sent before
 * Terminate completes as on PostgreSQL; a message a plugin cannot handle ends one session at
 * most, never the process.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  frontendMessage, parseErrorResponse, queryMessage, rawLogin, sleep, startStack, USERS, type Stack,
} from './helpers.js';
import type { WeirInstance } from '@weir/testkit';

const TERMINATE = frontendMessage('X');

let stack: Stack;
/** Same cluster, session mode, pool_size 1. */
let session: WeirInstance;
/** Same cluster, transaction mode with the prepared_statements plugin, pool_size 1. */
let prepared: WeirInstance;

beforeAll(async () => {
  // pool_size 1: the next client always gets the server connection the hostile one had.
  stack = await startStack({ name: 'e2e-security-data', poolMode: 'transaction', poolSize: 1, general: { query_wait_timeout: '20s' } });
  await stack.cluster.query(
    `CREATE TABLE pay (id serial primary key, v text); GRANT ALL ON pay, pay_id_seq TO PUBLIC;`, [], { database: 'appdb' },
  );
  session = await stack.startAnotherWeir({ poolMode: 'session', poolSize: 1 });
  prepared = await stack.startAnotherWeir({
    poolSize: 1,
    plugins: 'plugins:\n  prepared_statements:\n    enabled: true\n',
  });
});

afterAll(async () => {
  await stack?.stop();
});

/** A query on a fresh client that must be answered within 15 s (a poisoned server hangs). */
async function answers(port: number, sql = 'select 1 as one'): Promise<unknown> {
  const c = new pg.Client({ ...stack.conn(USERS.md5, 'appdb', port), connectionTimeoutMillis: 15_000, query_timeout: 15_000 });
  c.on('error', () => {});
  try {
    await c.connect();
    return (await c.query(sql)).rows;
  } finally {
    await c.end().catch(() => {});
  }
}

async function rows(sql: string): Promise<any[]> {
  return stack.cluster.query(sql, [], { database: 'appdb' });
}

function alive(w: WeirInstance): boolean {
  return w.process.exitCode === null && w.process.signalCode === null;
}

/** Poll (bounded) until `pred` holds or 10 s pass. */
async function eventually(pred: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await pred()) return true;
    await sleep(100);
  }
  return false;
}

describe('a lying header never poisons a server connection', () => {
  for (const [label, prefix] of [['Query', 'Q'], ['CopyData', 'd']] as const) {
    for (const mode of ['transaction', 'session', 'prepared'] as const) {
      it(`${mode}: '${label}' with length bytes 00 00 00, a pause, then 02 → 08P01; the next client is served`, async () => {
        const w = mode === 'session' ? session : mode === 'prepared' ? prepared : stack.weir;
        const port = w.port;
        const raw = await rawLogin(port);
        // A first query makes sure this client holds the only server connection (session) or has
        // taken it before (transaction): the broken bytes go straight to it.
        raw.socket.write(queryMessage('select 1'));
        await raw.next(2_000);
        raw.socket.write(Buffer.from([prefix.charCodeAt(0), 0, 0, 0]));
        await sleep(200);
        raw.socket.write(Buffer.from([2]));
        const got = await raw.next(5_000);
  
      expect(parseErrorResponse(got.data)?.C).toBe('08P01');
        raw.socket.destroy();
        // The only server connection is either clean or gone: the next client gets an answer.
        expect(await answers(port)).toEqual([{ one: 1 }]);
        expect(alive(w)).toBe(true);
      });
    }
  }

  it('a victim pipelining two INSERTs after the attacker stores both and gets both answers', async () => {
    const raw = await rawLogin(stack.weir.port);
    raw.socket.write(queryMessage('select 1'));
    await raw.next(2_000);
    raw.socket.write(Buffer.from([0x64, 0, 0, 0]));
    await sleep(200);
    raw.socket.write(Buffer.from([2]));
    await raw.next(5_000);
    raw.socket.destroy();
    const victim = new pg.Client({ ...stack.conn(), query_timeout: 15_000 });
    victim.on('error', () => {});
    await victim.connect();
    try {
      const [a, b] = await Promise.all([
        victim.query(`insert into pay (v) values ('payment-1') returning v`),
        victim.query(`insert into pay (v) values ('payment-2') returning v`),
      ]);
      expect(a.rows[0].v).toBe('payment-1');
      expect(b.rows[0].v).toBe('payment-2');
    } finally {
      await victim.end().catch(() => {});
    }
    const stored = (await rows(`select v from pay where v like 'payment-%' order by id`)).map((r) => r.v);
    expect(stored).toEqual(['payment-1', 'payment-2']);
  });
});

describe('startup parameters stay with their client', () => {
  it.each(['transaction', 'session'])('%s: one PostgreSQL does not report (statement_timeout) does not reach the next client of the server', async (mode) => {
    const port = mode === 'session' ? session.port : stack.weir.port;
    const a = new pg.Client({ ...stack.conn(USERS.md5, 'appdb', port), statement_timeout: 4321 });
    await a.connect();
    expect((await a.query('show statement_timeout')).rows).toEqual([{ statement_timeout: '4321ms' }]);
    await a.end();
    // pool_size 1: the same server connection serves the next client, which sent no statement_timeout.
    expect(await answers(port, 'show statement_timeout')).toEqual([{ statement_timeout: '0' }]);
  });
});

describe('work sent just before Terminate completes', () => {
  for (const mode of ['transaction', 'session', 'prepared'] as const) {
    it(`${mode}: INSERT; SELECT pg_sleep(0.5); INSERT, then Terminate in one write: both rows stored`, async () => {
      const w = mode === 'session' ? session : mode === 'prepared' ? prepared : stack.weir;
      const tag = `term-${mode}`;
      const raw = await rawLogin(w.port);
      raw.socket.write(Buffer.concat([
        queryMessage(`insert into pay (v) values ('${tag}-a'); select pg_sleep(0.5); insert into pay (v) values ('${tag}-b')`),
        TERMINATE,
      ]));
      raw.socket.end();
      expect(await eventually(async () => (await rows(`select v from pay where v like '${tag}-%'`)).length === 2)).toBe(true);
      // The server connection went back clean: the next client is served.
      expect(await answers(w.port)).toEqual([{ one: 1 }]);
    });
  }

  it('queued while another client holds the only server: runs once that server is free', async () => {
    const holder = new pg.Client(stack.conn());
    await holder.connect();
    await holder.query('begin');
    await holder.query('select 1');
    const raw = await rawLogin(stack.weir.port);
    raw.socket.write(Buffer.concat([queryMessage(`insert into pay (v) values ('queued-a')`), TERMINATE]));
    raw.socket.destroy();
    await sleep(300);
    expect((await rows(`select v from pay where v = 'queued-a'`)).length).toBe(0);
    await holder.query('commit');
    await holder.end();
    expect(await eventually(async () => (await rows(`select v from pay where v = 'queued-a'`)).length === 1)).toBe(true);
  });

  it('an open transaction before Terminate is rolled back, as PostgreSQL does', async () => {
    const raw = await rawLogin(stack.weir.port);
    raw.socket.write(Buffer.concat([queryMessage(`begin; insert into pay (v) values ('rolled-back'); select pg_sleep(0.2)`), TERMINATE]));
    raw.socket.end();
    await sleep(1_000);
    expect(await answers(stack.weir.port)).toEqual([{ one: 1 }]);
    expect((await rows(`select v from pay where v = 'rolled-back'`)).length).toBe(0);
  });
});

describe('malformed messages with prepared_statements on: one session at most', () => {
  const cases: Array<[string, Buffer]> = [
    ['Parse whose query lacks its NUL', frontendMessage('P', Buffer.from('s1\0select 1'))],
    ['Bind with missing values', frontendMessage('B', Buffer.concat([Buffer.from('\0\0'), Buffer.from([0, 0, 0, 3])]))],
    ['Describe with kind X', frontendMessage('D', Buffer.from('Xs1\0'))],
    ['Close with kind X', frontendMessage('C', Buffer.from('Xs1\0'))],
    ['Query "discard all" without its NUL', frontendMessage('Q', Buffer.from('discard all'))],
  ];
  for (const [name, msg] of cases) {
    it(`${name}: the client gets an ErrorResponse; another client and weir go on`, async () => {
      const other = new pg.Client({ ...stack.conn(USERS.md5, 'appdb', prepared.port), query_timeout: 15_000 });
      other.on('error', () => {});
      await other.connect();
      const raw = await rawLogin(prepared.port);
      raw.socket.write(Buffer.concat([msg, frontendMessage('S')]));
      const got = await raw.next(5_000);
      expect(parseErrorResponse(got.data)?.C).toBe('08P01');
      raw.socket.destroy();
      expect(alive(prepared)).toBe(true);
      expect((await other.query('select 2 as two')).rows).toEqual([{ two: 2 }]);
      await other.end();
      expect(await answers(prepared.port)).toEqual([{ one: 1 }]);
    });
  }
});
