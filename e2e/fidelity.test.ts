/**
 * A client cannot tell weir from PostgreSQL where PostgreSQL ends a session or refuses a first
 * packet (issue 13, fidelity): one FATAL — the server's own — when a backend is terminated, and
 * no answer at all to a first packet that is not a startup packet.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe, queryMessage, rawLogin, startStack, type Stack, type WeirInstance } from './helpers.js';

let stack: Stack;
let sessionWeir: WeirInstance;

beforeAll(async () => {
  stack = await startStack({ name: 'e2e-fidelity' });
  sessionWeir = await stack.startAnotherWeir({ poolMode: 'session' });
});

afterAll(async () => {
  await stack?.stop();
});

/** Every ErrorResponse in a byte stream from the server, as field maps. */
function errorsIn(data: Buffer): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (let off = 0; off + 5 <= data.length;) {
    const len = data.readInt32BE(off + 1);
    if (data[off] === 0x45) {
      const fields: Record<string, string> = {};
      for (let p = off + 5; p < off + 1 + len && data[p] !== 0;) {
        const z = data.indexOf(0, p + 1);
        fields[String.fromCharCode(data[p]!)] = data.toString('utf8', p + 1, z);
        p = z + 1;
      }
      out.push(fields);
    }
    off += 1 + len;
  }
  return out;
}

const terminateBackends = () => stack.cluster.query(
  `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = 'appdb' AND usename = 'app' AND pid <> pg_backend_pid()`);

describe('PostgreSQL ends a backend', () => {
  for (const [mode, port] of [['session', () => sessionWeir.port], ['transaction (inside a transaction)', () => stack.weir.port]] as const) {
    it(`${mode}: the client gets exactly one FATAL, PostgreSQL's 57P01, and no server address`, async () => {
      const s = await rawLogin(port());
      try {
        s.socket.write(queryMessage('begin'));
        let m;
        do m = await s.readMsg(); while (m.type !== 'Z');
        await terminateBackends();
        const r = await s.next(10_000);
        let all = r.data;
        let closed = r.closed;
        for (let i = 0; i < 20 && !closed; i++) {
          const more = await s.next(500);
          all = Buffer.concat([all, more.data]);
          closed = more.closed;
        }
        expect(closed).toBe(true);
        const errors = errorsIn(all);
        expect(errors.map((e) => `${e.S} ${e.C}`)).toEqual(['FATAL 57P01']);
        expect(all.toString('latin1')).not.toContain(String(stack.cluster.port));
      } finally {
        s.socket.destroy();
      }
    });
  }

  it('node-postgres sees the same error events as when connected to PostgreSQL directly', async () => {
    const events = async (port: number) => {
      const client = new pg.Client({ ...stack.conn(), port });
      const errors: string[] = [];
      client.on('error', (e: Error & { code?: string }) => errors.push(e.code ?? e.message));
      await client.connect();
      await client.query('select 1');
      const ended = new Promise<void>((r) => client.once('end', () => r()));
      await terminateBackends();
      await ended;
      return errors;
    };
    const direct = await events(stack.cluster.port);
    expect(direct[0]).toBe('57P01');
    expect(await events(sessionWeir.port)).toEqual(direct);
  });
});

describe('a first packet that is not a startup packet', () => {
  it('Terminate before the startup packet (node-postgres giving up while connecting): closed with no answer', async () => {
    const r = await probe(stack.weir.port, [Buffer.from('X\0\0\0\x04')], { waitMs: 10_000 });
    expect(r.closed).toBe(true);
    expect(r.data.length).toBe(0);
  });

  it('a length past the startup limit: closed with no answer, weir goes on', async () => {
    const b = Buffer.alloc(8);
    b.writeInt32BE(1 << 20, 0);
    b.writeInt32BE(196608, 4);
    const r = await probe(stack.weir.port, [b], { waitMs: 10_000 });
    expect(r.closed).toBe(true);
    expect(r.data.length).toBe(0);
    const c = new pg.Client(stack.conn());
    await c.connect();
    expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    await c.end();
  });
});
