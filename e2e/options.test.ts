/**
 * The startup `options` parameter (issue 13, item 5): `-c name=value` and `--name=value` are
 * applied per client like any startup parameter, kept across transactions in transaction mode,
 * never seen by another client, and refused as PostgreSQL refuses them.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { psql, startStack, USERS, type Stack, type WeirInstance } from './helpers.js';

let stack: Stack;
let oneServer: WeirInstance;

beforeAll(async () => {
  stack = await startStack({ name: 'e2e-options' });
  oneServer = await stack.startAnotherWeir({ poolSize: 1 });
});

afterAll(async () => {
  await stack?.stop();
});

async function withClient<T>(port: number, options: string | undefined, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ ...stack.conn(), port, options });
  c.on('error', () => {});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

const show = (c: pg.Client, name: string) => c.query(`SHOW ${name}`).then((r) => Object.values(r.rows[0])[0]);

/** The SQLSTATE a connection with `options` fails with (at connect or its first query), or null. */
async function refusal(port: number, options: string): Promise<string | null> {
  try {
    await withClient(port, options, (c) => c.query('SELECT 1'));
    return null;
  } catch (e) {
    return (e as { code?: string }).code ?? (e as Error).message;
  }
}

describe('startup options', () => {
  it('-c and --name=value apply to the client, across transactions, and to no one else (one shared server)', async () => {
    await withClient(oneServer.port, '-c statement_timeout=1234 --lock-timeout=4321 -c application_name=with\\ space', async (a) => {
      for (let i = 0; i < 3; i++) {
        expect(await show(a, 'statement_timeout')).toBe('1234ms');
        expect(await show(a, 'lock_timeout')).toBe('4321ms');
        expect(await show(a, 'application_name')).toBe('with space');
        // Another client of the same server connection in between.
        await withClient(oneServer.port, undefined, async (b) => {
          expect(await show(b, 'statement_timeout')).toBe('0');
          expect(await show(b, 'lock_timeout')).toBe('0');
        });
      }
    });
  });

  it('a startup parameter given both ways: the explicit key wins, as in PostgreSQL', async () => {
    const c = new pg.Client({ ...stack.conn(), port: oneServer.port, options: '-c statement_timeout=1000', statement_timeout: 2000 });
    await c.connect();
    try {
      expect(await show(c, 'statement_timeout')).toBe('2s');
    } finally {
      await c.end();
    }
  });

  it('psql with PGOPTIONS', async () => {
    const r = await psql(oneServer.port, { user: USERS.md5.name, password: USERS.md5.password, sql: 'SHOW statement_timeout',
      env: { PGOPTIONS: '-c statement_timeout=5s' } });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('5s');
  });

  it('refused as PostgreSQL refuses them: the same SQLSTATE as directly', async () => {
    for (const options of ['-Q', '-c shared_buffers=1MB', '-c statement_timeout', '-c no_such_parameter=1', '-c statement_timeout=soon']) {
      const direct = await refusal(stack.cluster.port, options);
      expect(direct, options).toMatch(/^[0-9A-Z]{5}$/);
      expect(await refusal(oneServer.port, options), options).toBe(direct);
    }
    // weir goes on serving.
    expect(await withClient(oneServer.port, undefined, (c) => show(c, 'statement_timeout'))).toBe('0');
  });
});
