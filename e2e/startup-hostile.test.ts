/**
 * Hostile clients before login (issue 10): plaintext stuffed behind an encryption request is
 * never read as part of the encrypted session; cancel keys cannot be guessed from one another and
 * wrong keys are rate-limited per address and logged in aggregate.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseErrorResponse, probe, queryMessage, run, sleep, startStack, startupMessage, USERS, type Stack } from './helpers.js';
import type { WeirInstance } from '@weir/testkit';

let dir: string;
let stack: Stack;
let tlsWeir: WeirInstance;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-hostile-'));
  const r = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')]);
  expect(r.code, r.stderr).toBe(0);
  stack = await startStack({ name: 'e2e-startup-hostile' });
  tlsWeir = await stack.startAnotherWeir({ general: { tls_certificate: path.join(dir, 'cert.pem'), tls_private_key: path.join(dir, 'key.pem') } });
});

afterAll(async () => {
  await stack?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function request(code: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeInt32BE(8, 0);
  b.writeInt32BE(code, 4);
  return b;
}
const SSL_REQUEST = request(80877103);
const GSSENC_REQUEST = request(80877104);

function cancelRequest(pid: number, secret: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32BE(16, 0);
  b.writeInt32BE(80877102, 4);
  b.writeInt32BE(pid, 8);
  b.writeInt32BE(secret, 12);
  return b;
}

/** Send a CancelRequest from a given loopback source address; resolve once weir closed it. */
function sendCancelFrom(localAddress: string, port: number, pid: number, secret: number): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress });
    const done = () => {
      s.destroy();
      resolve();
    };
    s.on('connect', () => s.write(cancelRequest(pid, secret)));
    s.on('error', done);
    s.on('close', done);
    setTimeout(done, 5_000).unref();
  });
}

describe('plaintext after an encryption request', () => {
  const stuffed = () => [Buffer.concat([SSL_REQUEST, startupMessage({ user: USERS.md5.name, database: 'appdb' }), queryMessage('select 1')])];

  it('with TLS configured: SSLRequest + startup + query in one write is refused, never answered S', async () => {
    const r = await probe(tlsWeir.port, stuffed());
    expect(r.closed).toBe(true);
    expect(r.data[0]).toBe('E'.charCodeAt(0));
    expect(parseErrorResponse(r.data)).toMatchObject({ C: '08P01', M: 'received unencrypted data after SSL request' });
  });

  it('without TLS: the same bytes are refused too', async () => {
    const r = await probe(stack.weir.port, stuffed());
    expect(r.closed).toBe(true);
    expect(parseErrorResponse(r.data)).toMatchObject({ C: '08P01' });
  });

  it('GSSENCRequest with bytes behind it is refused', async () => {
    const r = await probe(stack.weir.port, [Buffer.concat([GSSENC_REQUEST, startupMessage({ user: USERS.md5.name, database: 'appdb' })])]);
    expect(r.closed).toBe(true);
    expect(parseErrorResponse(r.data)).toMatchObject({ C: '08P01' });
  });

  it('SSLRequest alone is still answered, and TLS clients still log in', async () => {
    const r = await probe(tlsWeir.port, [SSL_REQUEST], { waitMs: 500 });
    expect(r.data.subarray(0, 1).toString()).toBe('S');
    const c = new pg.Client({ ...stack.conn(USERS.md5, 'appdb', tlsWeir.port), ssl: { rejectUnauthorized: false } });
    await c.connect();
    try {
      expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await c.end();
    }
  });
});

describe('cancel keys', () => {
  async function client(): Promise<pg.Client & { processID: number; secretKey: number }> {
    const c = new pg.Client(stack.conn(USERS.md5, 'appdb', stack.weir.port));
    c.on('error', () => {});
    await c.connect();
    return c as never;
  }

  /** Run pg_sleep(seconds) on `c` and resolve once PostgreSQL shows it running. */
  async function sleeping(c: pg.Client, seconds: number): Promise<{ result: Promise<string> }> {
    const result = c.query(`select pg_sleep(${seconds}) as slept`).then(() => 'done', (e: { code?: string }) => e.code ?? 'error');
    for (let i = 0; i < 100; i++) {
      const r = await stack.cluster.query(`select count(*)::int as n from pg_stat_activity where query like 'select pg_sleep(${seconds})%' and state = 'active'`);
      if (r[0].n > 0) break;
      await sleep(50);
    }
    return { result }; // wrapped: an async function would wait for a returned promise
  }

  it('process ids are random, not a counter', async () => {
    const clients = await Promise.all(Array.from({ length: 8 }, () => client()));
    try {
      const pids = clients.map((c) => c.processID).sort((a, b) => a - b);
      expect(new Set(pids).size).toBe(8);
      for (const p of pids) expect(p).toBeGreaterThan(0);
      expect(pids.some((p, i) => i > 0 && p === pids[i - 1]! + 1)).toBe(false);
      expect(pids[7]!).toBeGreaterThan(2 ** 24);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('ten wrong keys block cancels from that address, not from another; the log holds a digest, not a line each', async () => {
    const c = await client();
    try {
      const from = stack.weir.logs.length;
      for (let i = 0; i < 30; i++) await sendCancelFrom('127.0.0.3', stack.weir.port, c.processID, c.secretKey ^ 1);
      // The right key from the blocked address is ignored: the sleep runs to its end.
      const first = await sleeping(c, 1.5);
      await sendCancelFrom('127.0.0.3', stack.weir.port, c.processID, c.secretKey);
      expect(await first.result).toBe('done');
      // From another address the same key cancels.
      const second = await sleeping(c, 30);
      await sendCancelFrom('127.0.0.4', stack.weir.port, c.processID, c.secretKey);
      expect(await second.result).toBe('57014');
      const lines = stack.weir.logs.slice(from).filter((l) => /cancel request/.test(l));
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.length).toBeLessThanOrEqual(3);
    } finally {
      await c.end();
    }
  });
});
