/**
 * auth_query in passthrough mode: users not in the config log in with the password stored in
 * PostgreSQL (md5 or SCRAM), each gets its own dynamic pool logged in as itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wrongPassword } from '../helpers.js';
import { ROLES, psql, startStack, type Stack } from './stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack('e2e-aq-passthrough', { maxPools: 3 });
});

afterAll(async () => {
  await stack?.stop();
});

describe('passthrough mode', () => {
  it('an md5-stored role logs in and runs as itself (node-postgres)', async () => {
    const r = await stack.one(ROLES.alice, 'SELECT current_user AS u, session_user AS s');
    expect(r).toEqual({ u: 'alice', s: 'alice' });
  });

  it('a SCRAM-stored role logs in and runs as itself (node-postgres)', async () => {
    const r = await stack.one(ROLES.bob, 'SELECT current_user AS u');
    expect(r.u).toBe('bob');
  });

  it('psql logs in as both, through the same pools', async () => {
    for (const role of [ROLES.alice, ROLES.bob]) {
      const r = await psql(stack, role, 'SELECT current_user');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(role.name);
    }
  });

  it('each user has its own pool, marked dynamic in SHOW POOLS', async () => {
    const pools = await stack.pools();
    expect(pools.get('alice')?.dynamic).toMatch(/^t/);
    expect(pools.get('bob')?.dynamic).toMatch(/^t/);
    expect(pools.get('alice')?.pool_size).toBe('4');
  });

  it('SHOW SERVERS: the server connections log in as the user', async () => {
    await stack.one(ROLES.alice, 'SELECT 1');
    const servers = (await stack.show('SERVERS')).filter((s) => s.database === 'appdb');
    expect(servers.length).toBeGreaterThan(0);
    for (const s of servers) expect(s.server_user).toBe(s.user);
  });

  it('a wrong password and an unknown user are both refused with 28P01 and the same message', async () => {
    const wrong = await stack.loginError({ name: 'alice', password: 'nope' });
    const wrongScram = await stack.loginError({ name: 'bob', password: 'nope' });
    const unknown = await stack.loginError({ name: 'nobody', password: 'nope' });
    expect(wrong.code).toBe('28P01');
    expect(wrongScram.code).toBe('28P01');
    expect(unknown.code).toBe('28P01');
    expect(unknown.message).toBe('password authentication failed for user "nobody"');
    expect(wrong.message).toBe('password authentication failed for user "alice"');
    expect((await stack.pools()).has('nobody')).toBe(false);
  });

  it('a PostgreSQL role cannot be told from a name that is not one: both get SCRAM and a stable salt', async () => {
    const bob = await wrongPassword(stack.weir.port, ROLES.bob.name, 'appdb');
    const nobody = await wrongPassword(stack.weir.port, 'nobody', 'appdb');
    expect(bob.method).toBe('scram');
    expect(nobody.method).toBe('scram');
    expect(nobody.iterations).toBe(bob.iterations);
    expect(Buffer.from(nobody.salt!, 'base64').length).toBe(Buffer.from(bob.salt!, 'base64').length);
    expect((await wrongPassword(stack.weir.port, 'nobody', 'appdb')).salt).toBe(nobody.salt);
    expect(nobody.error).toMatchObject({ C: '28P01', M: 'password authentication failed for user "nobody"' });
  });

  it('psql sees 28P01 for an unknown user too', async () => {
    const r = await psql(stack, { name: 'nobody', password: 'x' }, 'SELECT 1');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/password authentication failed for user "nobody"/);
  });

  it('200 simultaneous first logins of one user make one lookup and one pool', async () => {
    const before = await stack.lookups();
    const row0 = await stack.authQueryRow();
    const results = await Promise.all(Array.from({ length: 200 }, async () => {
      const c = await stack.connect(ROLES.dave);
      try {
        return (await c.query('SELECT current_user AS u')).rows[0].u as string;
      } finally {
        await c.end().catch(() => {});
      }
    }));
    expect(results.every((u) => u === 'dave')).toBe(true);
    expect((await stack.lookups()) - before).toBe(1);
    const row = await stack.authQueryRow();
    expect(Number(row.lookups) - Number(row0.lookups)).toBe(1);
    expect(Number(row.hits) + Number(row.misses) - Number(row0.hits) - Number(row0.misses)).toBe(200);
    const pools = [...(await stack.pools()).keys()].filter((u) => u === 'dave');
    expect(pools).toEqual(['dave']);
    expect(Number((await stack.pools()).get('dave')!.sv_idle)).toBeLessThanOrEqual(4);
  });

  it('SHOW AUTH_QUERY has one row for appdb with its mode and counters', async () => {
    const rows = await stack.show('AUTH_QUERY');
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row.database).toBe('appdb');
    expect(row.mode).toBe('passthrough');
    expect(row.server_user).toBeNull();
    // alice, bob and dave; nobody too while its miss is remembered (cache_failure_ttl 1s)
    expect(Number(row.cache_entries)).toBeGreaterThanOrEqual(3);
    expect(Number(row.cache_entries)).toBeLessThanOrEqual(4);
    expect(Number(row.not_found)).toBeGreaterThanOrEqual(1); // nobody
    expect(Number(row.failures)).toBe(0);
    expect(row.last_error).toBeNull();
  });

  it('a pool beyond max_pools is refused with a clear error (53300), and existing users still log in', async () => {
    expect([...(await stack.pools()).keys()].sort()).toEqual(['alice', 'bob', 'dave']);
    const err = await stack.loginError(ROLES.carol);
    expect(err.code).toBe('53300');
    expect(err.message).toMatch(/too many dynamic pools \(max_pools = 3\)/);
    expect((await stack.one(ROLES.alice, 'SELECT current_user AS u')).u).toBe('alice');
  });

  it('the log never holds a password or a stored secret', async () => {
    const logs = stack.weir.logs.join('\n');
    const stored = await stack.cluster.query<{ passwd: string }>(
      "SELECT passwd FROM pg_shadow WHERE usename IN ('alice', 'bob', 'dave', 'weir_auth')");
    expect(stored).toHaveLength(4);
    const secrets = [ROLES.alice.password, ROLES.bob.password, ROLES.lookup.password, 'SCRAM-SHA-256$', ...stored.map((r) => r.passwd)];
    for (const secret of secrets) {
      expect(logs.includes(secret), secret).toBe(false);
    }
  });
});
