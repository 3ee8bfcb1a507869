/**
 * The data path weir runs (issue 11): `npm test` runs the e2e suite twice, on the native plane
 * (project e2e) and on node:net (project e2e-node, WEIR_IO=node). This file makes sure each run
 * is on the path it claims, so a native build that silently fell back cannot pass as native,
 * and that what the linked path counts in C reaches SHOW STATS as the node path counts it.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminShow, startStack, type Stack } from './helpers.js';

const ADDON = path.join(__dirname, '..', 'packages', 'io', 'build', 'weir_io.node');
const STATUS = path.join(__dirname, '..', 'packages', 'io', 'build', 'status.json');
const expected = process.env.WEIR_IO === 'node' ? 'node' : 'native';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ name: 'e2e-io-path', poolSize: 2 });
});

afterAll(async () => {
  await stack?.stop();
});

const logLine = (logs: string[], prefix: string) =>
  logs.map((l) => { try { return JSON.parse(l); } catch { return null; } }).find((l) => typeof l?.msg === 'string' && l.msg.startsWith(prefix));

describe(`the ${expected} data path`, () => {
  it('weir says at start which path runs, and it is the one this project asked for', () => {
    const line = logLine(stack.weir.logs, 'data path:');
    expect(line, stack.weir.logs.join('\n')).toBeDefined();
    if (expected === 'native' && !fs.existsSync(ADDON)) {
      // No compiler on this machine: the build said why, and weir must say it fell back.
      const status = JSON.parse(fs.readFileSync(STATUS, 'utf8')) as { reason: string };
      expect(line).toMatchObject({ io: 'node', level: 40 });
      expect(line.why).toContain(status.reason);
    } else if (expected === 'native') {
      expect(line).toMatchObject({ io: 'native' });
      if (process.env.WEIR_TESTKIT_SANITIZE === '1') expect(line.why).toContain('weir_io.asan.node');
    } else {
      expect(line).toMatchObject({ io: 'node', why: 'WEIR_IO is node' });
    }
  });

  it('transactions, queries and bytes are counted in SHOW STATS, exactly', async () => {
    const stats = async () => (await adminShow(stack.weir.port, 'STATS')).rows.find((r) => r.database === 'appdb') ?? {};
    const before = await stats();
    const clients = await Promise.all([0, 1, 2, 3].map(async () => {
      const c = new pg.Client(stack.conn());
      await c.connect();
      return c;
    }));
    // 4 × 50 one-query transactions, then one of three queries: 201 transactions, 203 queries.
    await Promise.all(clients.map(async (c) => {
      for (let i = 0; i < 50; i++) await c.query('SELECT 1');
    }));
    await clients[0].query('BEGIN');
    await clients[0].query('SELECT 1');
    await clients[0].query('COMMIT');
    await Promise.all(clients.map((c) => c.end()));
    const after = await stats();
    const d = (k: string) => Number(after[k] ?? 0) - Number(before[k] ?? 0);
    expect(d('total_xact_count')).toBe(201);
    expect(d('total_query_count')).toBe(203);
    expect(d('total_received')).toBeGreaterThan(203 * 13);
    expect(d('total_sent')).toBeGreaterThan(203 * 20);
  });
});
