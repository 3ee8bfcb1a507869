/**
 * Pipelining through transaction pooling: several sync points sent at once (before the client
 * has a server, and while it holds one) all run on one server and every answer comes back in
 * order; the server goes back to the pool only after the last ReadyForQuery. A raw wire client
 * so that the bytes really arrive together.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import net from 'node:net';
import { USERS, adminShow, startStack, startupMessage, type Stack } from './helpers.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ name: 'pipeline', poolSize: 2 });
});
afterAll(async () => {
  await stack?.stop();
});

const md5 = (s: string | Buffer) => crypto.createHash('md5').update(s).digest('hex');

function msg(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(5 + body.length);
  b[0] = type.charCodeAt(0);
  b.writeInt32BE(4 + body.length, 1);
  body.copy(b, 5);
  return b;
}
const q = (sql: string) => msg('Q', Buffer.from(`${sql}\0`));
function parse(name: string, sql: string): Buffer {
  return msg('P', Buffer.concat([Buffer.from(`${name}\0${sql}\0`), Buffer.from([0, 0])]));
}
function bind(stmt: string): Buffer {
  return msg('B', Buffer.concat([Buffer.from(`\0${stmt}\0`), Buffer.from([0, 0, 0, 0, 0, 0])]));
}
const execute = () => msg('E', Buffer.from([0, 0, 0, 0, 0]));
const sync = () => msg('S');

/** A logged-in raw client that collects (type, body) messages. */
async function client(port: number) {
  const s = net.connect({ host: '127.0.0.1', port });
  const { name, password } = USERS.md5;
  let buf = Buffer.alloc(0);
  const got: Array<{ type: string; body: Buffer }> = [];
  let waiter: (() => void) | null = null;
  s.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 5) {
      const len = buf.readInt32BE(1);
      if (buf.length < len + 1) break;
      const type = String.fromCharCode(buf[0]!);
      const body = buf.subarray(5, len + 1);
      buf = buf.subarray(len + 1);
      if (type === 'R' && body.readInt32BE(0) === 5) {
        const salt = body.subarray(4, 8);
        s.write(msg('p', Buffer.from(`md5${md5(Buffer.concat([Buffer.from(md5(password + name)), salt]))}\0`)));
        continue;
      }
      got.push({ type, body });
    }
    waiter?.();
  });
  s.write(startupMessage({ user: name, database: 'appdb' }));
  const until = async (n: number) => {
    for (let i = 0; i < 200 && got.filter((m) => m.type === 'Z').length < n; i++) {
      await new Promise<void>((r) => {
        waiter = r;
        setTimeout(r, 50);
      });
    }
  };
  await until(1);
  got.length = 0;
  return { s, got, until };
}

const rows = (got: Array<{ type: string; body: Buffer }>) =>
  got.filter((m) => m.type === 'D').map((m) => m.body.subarray(6).toString());

describe('pipelining through transaction pooling', () => {
  it('three simple queries sent together before the client has a server all answer, in order', async () => {
    const c = await client(stack.weir.port);
    c.s.write(Buffer.concat([q('select 1 from pg_sleep(0.2)'), q('select 2'), q('select 3')]));
    await c.until(3);
    expect(rows(c.got)).toEqual(['1', '2', '3']);
    expect(c.got.filter((m) => m.type === 'E')).toEqual([]);
    c.s.end(msg('X'));
  });

  it('extended batches with several Syncs run on one server and come back whole', async () => {
    const c = await client(stack.weir.port);
    const batch: Buffer[] = [];
    for (let i = 1; i <= 5; i++) batch.push(parse('', `select ${i}, pg_backend_pid()`), bind(''), execute(), sync());
    c.s.write(Buffer.concat(batch));
    await c.until(5);
    const data = rows(c.got);
    expect(data.map((r) => r.split(/\0|\u0000/)[0]).length).toBe(5);
    expect(c.got.filter((m) => m.type === 'Z')).toHaveLength(5);
    expect(c.got.filter((m) => m.type === 'E')).toEqual([]);
    // Every row came from the same backend: the batch was not split across servers.
    const pids = new Set(c.got.filter((m) => m.type === 'D').map((m) => m.body.toString('latin1').split(/[^0-9]+/).filter(Boolean).pop()));
    expect(pids.size).toBe(1);
    c.s.end(msg('X'));
  });

  it('a client interleaving pipelined work with others never sees another client\'s answers', async () => {
    const clients = await Promise.all(Array.from({ length: 6 }, () => client(stack.weir.port)));
    for (let round = 0; round < 20; round++) {
      clients.forEach((c, i) => c.s.write(Buffer.concat([q(`select ${i * 1000 + round * 2}`), q(`select ${i * 1000 + round * 2 + 1}`)])));
      await Promise.all(clients.map((c) => c.until(2 * (round + 1))));
    }
    clients.forEach((c, i) => {
      const values = rows(c.got).map((r) => Number(r.replace(/[^0-9]/g, '')));
      expect(values).toEqual(Array.from({ length: 40 }, (_, k) => i * 1000 + k));
      c.s.end(msg('X'));
    });
    const pools = await adminShow(stack.weir.port, 'POOLS');
    const row = pools.rows.find((r) => r.user === USERS.md5.name && r.database === 'appdb');
    expect(Number(row.sv_active)).toBe(0);
  });
});
