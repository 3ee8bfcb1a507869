/**
 * Statement memory is bounded in bytes (issue 10, item 7): a client's statement names may hold
 * max_client_statement_bytes, past which its Parse is refused with 54000 (WEIR_E_PS_CLIENT_LIMIT)
 * and its connection goes on; the registry shared by all clients stays within max_statement_bytes
 * by forgetting the least recently used shapes, while clients keep the statements they named.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, bind, execute, close, query, sync } from '@weir/protocol';
import { rawLogin, type RawSession } from '../helpers.js';
import { roundTrip, types, field, dataRows } from './raw.js';
import { startStack, DB, RAW, type Stack, type WeirInstance } from './stack.js';

let stack: Stack;
let small: WeirInstance;
const CLIENT_LIMIT = 64 * 1024;
const REGISTRY_LIMIT = 256 * 1024;

beforeAll(async () => {
  stack = await startStack('e2e-prepared-limits');
  small = await stack.startWeir({ maxClientStatementBytes: '64KB', maxStatementBytes: '256KB' });
});

afterAll(async () => {
  await stack?.stop();
});

/** A distinct statement of about 20 KB (its text) that adds `k` to its parameter. */
const big = (k: number, size = 20_000) => `SELECT $1::int + ${k} AS v /* ${'x'.repeat(size)} */`;

async function connect(port: number): Promise<pg.Client> {
  const c = new pg.Client(stack.conn(DB, port));
  c.on('error', () => {});
  await c.connect();
  return c;
}

const run = (c: pg.Client, name: string, text: string, v: number) =>
  c.query<{ v: number }>({ name, text, values: [v] }).then((r) => r.rows[0]!.v);

describe('max_client_statement_bytes', () => {
  it('a Parse past the limit is refused with 54000; the client and its statements go on', async () => {
    const c = await connect(small.port);
    const other = await connect(small.port);
    try {
      for (let k = 0; k < 3; k++) expect(await run(c, `s${k}`, big(k), 10)).toBe(10 + k); // ~60 KB
      const err = await run(c, 's3', big(3), 10).then(() => null, (e) => e);
      expect(err?.code).toBe('54000');
      expect(err?.message).toMatch(/WEIR_E_PS_CLIENT_LIMIT.*max_client_statement_bytes \(65536\)/);
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(await run(c, 's0', big(0), 5)).toBe(5);   // still prepared under its name
      expect(await run(c, 's2', big(2), 5)).toBe(7);
      // The limit is per client: another has its own.
      for (let k = 10; k < 13; k++) expect(await run(other, `s${k}`, big(k), 1)).toBe(1 + k);
    } finally {
      await c.end();
      await other.end();
    }
  });

  it('raw protocol: the server skips to Sync after the refusal exactly as the client expects', async () => {
    const s: RawSession = await rawLogin(small.port, RAW, DB);
    try {
      // A statement bigger than the whole limit, named and unnamed; then a plain query.
      let r = await roundTrip(s, [parse('huge', big(1, 70_000)), bind('', 'huge', ['1']), execute(), sync(), query('SELECT 7 AS seven')], 2);
      expect(types(r)).toBe('EZTDCZ');
      expect(field(r[0]!, 'C')).toBe('54000');
      expect(field(r[0]!, 'M')).toContain('WEIR_E_PS_CLIENT_LIMIT');
      expect(dataRows(r)).toEqual([['7']]);
      r = await roundTrip(s, [parse('', big(1, 70_000)), bind('', '', ['1']), execute(), sync()]);
      expect(types(r)).toBe('EZ');
      // In the middle of a pipeline: what came before stands, what follows up to Sync is skipped.
      r = await roundTrip(s, [
        parse('a', big(1)), parse('b', big(2)), parse('c', big(3)), parse('d', big(4)), bind('', 'a', ['1']), execute(), sync(),
        bind('', 'a', ['2']), execute(), sync(),
      ], 2);
      expect(types(r)).toBe('111EZ2DCZ');
      expect(field(r[3]!, 'C')).toBe('54000');
      expect(dataRows(r)).toEqual([['3']]);
      // Closing names gives their bytes back.
      r = await roundTrip(s, [close('S', 'a'), close('S', 'b'), parse('d', big(4)), bind('', 'd', ['1']), execute(), sync()]);
      expect(types(r)).toBe('3312DCZ');
      expect(dataRows(r)).toEqual([['5']]);
    } finally {
      s.socket.destroy();
    }
  });

  it('defaults (16 MiB per client): 8 MB statements are refused from the third on', async () => {
    const c = await connect(stack.weir.port);
    try {
      const eight = (k: number) => big(k, 8_000_000);
      expect(await run(c, 'm0', eight(0), 1)).toBe(1);
      expect(await run(c, 'm1', eight(1), 1)).toBe(2);
      await expect(run(c, 'm2', eight(2), 1)).rejects.toMatchObject({ code: '54000' });
      expect(await run(c, 'm0', eight(0), 2)).toBe(2);
    } finally {
      await c.end();
    }
    const [reg] = await stack.show('PREPARED_STATEMENT_REGISTRY');
    expect(Number(reg!.max_bytes)).toBe(64 * 1024 ** 2);
    expect(Number(reg!.bytes)).toBeLessThanOrEqual(64 * 1024 ** 2);
  });
});

describe('max_statement_bytes', () => {
  it('the shared registry stays within its budget; clients keep what they named', async () => {
    const clients = await Promise.all(Array.from({ length: 6 }, () => connect(small.port)));
    try {
      // 6 clients × 3 distinct statements of ~20 KB: ~360 KB of shapes against a 256 KB budget.
      for (const [i, c] of clients.entries()) {
        for (let k = 0; k < 3; k++) expect(await run(c, `r${k}`, big(100 + i * 10 + k), 0)).toBe(100 + i * 10 + k);
      }
      const [reg] = await stack.show('PREPARED_STATEMENT_REGISTRY', small.port);
      expect(Number(reg!.max_bytes)).toBe(REGISTRY_LIMIT);
      expect(Number(reg!.bytes)).toBeGreaterThan(0);
      expect(Number(reg!.bytes)).toBeLessThanOrEqual(REGISTRY_LIMIT);
      expect(Number(reg!.evictions)).toBeGreaterThan(0);
      // The first client's statements were forgotten by the registry, not by the client.
      expect(await run(clients[0]!, 'r0', big(100), 1)).toBe(101);
      expect(await run(clients[0]!, 'r2', big(102), 1)).toBe(103);
      expect(CLIENT_LIMIT).toBeLessThan(REGISTRY_LIMIT);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });
});
