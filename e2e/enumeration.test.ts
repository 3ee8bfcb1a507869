/**
 * User names cannot be enumerated (issue 10, finding 4): an unknown user is taken through the same
 * exchange as a known one of that pool or of the admin console — a mock SCRAM exchange whose salt
 * is derived from the name, so it is stable like a real verifier's — and fails with the same error.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWeir, type WeirInstance } from '@weir/testkit';
import { rejection, startStack, USERS, weirConfig, wrongPassword, type LoginExchange, type Stack } from './helpers.js';

let stack: Stack;
let md5Only: WeirInstance;

beforeAll(async () => {
  stack = await startStack({ name: 'e2e-enumeration' });
  const [stored] = await stack.cluster.query<{ rolpassword: string }>(`SELECT rolpassword FROM pg_authid WHERE rolname = $1`, [USERS.md5.name]);
  md5Only = await startWeir({
    config: weirConfig({ clusterPort: stack.cluster.port, poolMode: 'transaction', poolSize: 2, users: [{ username: USERS.md5.name, password: stored!.rolpassword }] })
      .replace('admin_password: admin', 'admin_password: md5f6fdffe48c908deb0f4c3bd36c032e72'),
  });
});

afterAll(async () => {
  await md5Only?.stop().catch(() => {});
  await stack?.stop();
});

const shape = (e: LoginExchange, user: string) => ({
  method: e.method, iterations: e.iterations, saltBytes: e.salt ? Buffer.from(e.salt, 'base64').length : undefined,
  sqlstate: e.error?.C, message: e.error?.M?.replace(`"${user}"`, '"…"'),
});

describe('an unknown user looks like a known one', () => {
  it('a pool with SCRAM users: the same SCRAM exchange, a stable salt, the same error', async () => {
    const known = await wrongPassword(stack.weir.port, USERS.scram.name, 'appdb');
    const ghost = await wrongPassword(stack.weir.port, 'ghost', 'appdb');
    expect(known.method).toBe('scram');
    expect(known.error).toMatchObject({ C: '28P01' });
    expect(shape(ghost, 'ghost')).toEqual(shape(known, USERS.scram.name));
    expect(ghost.error).toMatchObject({ C: '28P01', M: 'password authentication failed for user "ghost"' });
    // A real verifier's salt never changes between attempts; the mock's must not either, and
    // must differ between names (else one probe tells a mock from a real user).
    expect((await wrongPassword(stack.weir.port, 'ghost', 'appdb')).salt).toBe(ghost.salt);
    expect((await wrongPassword(stack.weir.port, 'ghost2', 'appdb')).salt).not.toBe(ghost.salt);
  });

  it('the admin console: an unknown name is asked for the same exchange as the admin', async () => {
    const admin = await wrongPassword(stack.weir.port, 'admin', 'weir');
    const ghost = await wrongPassword(stack.weir.port, 'root', 'weir');
    expect(admin.method).toBe('scram');
    expect(shape(ghost, 'root')).toEqual(shape(admin, 'admin'));
  });

  it('where every user is md5 (pool and console), an unknown user gets md5 too', async () => {
    const known = await wrongPassword(md5Only.port, USERS.md5.name, 'appdb');
    const ghost = await wrongPassword(md5Only.port, 'ghost', 'appdb');
    expect(known.method).toBe('md5');
    expect(shape(ghost, 'ghost')).toEqual(shape(known, USERS.md5.name));
    expect((await wrongPassword(md5Only.port, 'root', 'weir')).method).toBe('md5');
    expect((await wrongPassword(md5Only.port, 'admin', 'weir')).method).toBe('md5');
  });

  it('node-postgres sees the same error for a wrong password and for a user that does not exist', async () => {
    const fail = (user: string) => rejection(new pg.Client({ ...stack.conn({ name: user, password: 'nope' }) }).connect());
    const [wrong, ghost] = await Promise.all([fail(USERS.plain.name), fail('ghost')]);
    expect(wrong.code).toBe('28P01');
    expect(ghost.code).toBe('28P01');
    expect(ghost.message.replace('ghost', USERS.plain.name)).toBe(wrong.message);
  });

  it('the failed logins above left no password, hash or verifier in the log', async () => {
    const stored = await stack.cluster.query<{ rolpassword: string }>(`SELECT rolpassword FROM pg_authid WHERE rolname = ANY($1)`,
      [[USERS.md5.name, USERS.scram.name]]);
    const logs = [...stack.weir.logs, ...md5Only.logs].join('\n');
    expect(logs).toContain('"sqlstate":"28P01"');
    for (const secret of [USERS.plain.password, 'md5f6fdffe48c908deb0f4c3bd36c032e72', ...stored.map((r) => r.rolpassword)]) {
      expect(logs).not.toContain(secret);
    }
    for (const r of stored) for (const part of r.rolpassword.split(/[$:]/).filter((p) => p.length > 20)) expect(logs).not.toContain(part);
  });
});
