/**
 * RELOAD and auth_query: the write-up's scenarios (a changed auth_query section destroys the
 * database's dynamic pools; a removed one too; a static user added with a dynamic pool's name
 * wins), the passthrough → dedicated switch, and a transaction held open across RELOAD.
 * Each test starts from the config the previous one left; they run in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, startStack, type ConfigOptions, type Stack } from './stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack('e2e-aq-reload');
});

afterAll(async () => {
  await stack?.stop();
});

const whoami = (role: { name: string; password: string }) => stack.one<{ u: string }>(role, 'SELECT current_user AS u').then((r) => r.u);

describe('RELOAD with auth_query', () => {
  it('a changed auth_query section destroys every dynamic pool of the database and clears its cache', async () => {
    expect(await whoami(ROLES.alice)).toBe('alice');
    expect(await whoami(ROLES.bob)).toBe('bob');
    expect(await stack.dynamicPools()).toEqual(['alice', 'bob']);
    expect(Number((await stack.authQueryRow()).cache_entries)).toBe(2);
    const lookups = await stack.lookups();

    await stack.reload({ auth: { cacheTtl: '2h' } });

    expect(await stack.dynamicPools()).toEqual([]);
    expect(Number((await stack.authQueryRow()).cache_entries)).toBe(0);
    // Their server connections are closed (bounded wait: closing is asynchronous).
    await stack.until('alice/bob server connections to close', () => stack.cluster.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename IN ('alice', 'bob')"), (r) => r[0]!.n === 0);
    // The next login looks the user up again and makes a new pool.
    expect(await whoami(ROLES.alice)).toBe('alice');
    expect(await stack.lookups()).toBe(lookups + 1);
    expect(await stack.dynamicPools()).toEqual(['alice']);
  });

  it('a transaction held open across RELOAD commits on the same backend', async () => {
    const c = await stack.connect(ROLES.alice);
    try {
      await c.query('BEGIN');
      const pid = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      await c.query("INSERT INTO ledger (note) VALUES ('across reload')");

      await stack.reload({ auth: { cacheTtl: '3h' } });
      expect(await stack.dynamicPools()).not.toContain('alice'); // retired: off the registry …

      expect((await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid).toBe(pid); // … but the lease goes on
      await c.query("INSERT INTO ledger (note) VALUES ('still here')");
      await c.query('COMMIT');
    } finally {
      await c.end().catch(() => {});
    }
    const rows = await stack.cluster.query<{ who: string; note: string }>('SELECT who, note FROM ledger ORDER BY id', [], { database: 'appdb' });
    expect(rows).toEqual([{ who: 'alice', note: 'across reload' }, { who: 'alice', note: 'still here' }]);
    // A new login gets a fresh pool.
    expect(await whoami(ROLES.alice)).toBe('alice');
  });

  // The session re-resolves its pool when the one it holds was retired.
  it('a client connected across RELOAD, between transactions, goes on with its next query', async () => {
    const c = await stack.connect(ROLES.alice);
    try {
      expect((await c.query('SELECT current_user AS u')).rows[0].u).toBe('alice');
      await stack.reload({ auth: { cacheTtl: '3h', minInterval: '1ms' } });
      expect((await c.query('SELECT current_user AS u')).rows[0].u).toBe('alice');
    } finally {
      await c.end().catch(() => {});
    }
    await stack.reload({ auth: { cacheTtl: '3h' } });
  });

  it('passthrough → dedicated (server_user added): pools destroyed, cache cleared, users share the server_user pool', async () => {
    expect(await whoami(ROLES.alice)).toBe('alice');
    expect(await whoami(ROLES.bob)).toBe('bob');
    expect(await stack.dynamicPools()).toEqual(['alice', 'bob']);
    const lookups = await stack.lookups();

    await stack.reload({ auth: { cacheTtl: '3h', serverUser: ROLES.svc } }, 'sighup');

    expect(await stack.dynamicPools()).toEqual([]);
    const row = await stack.authQueryRow();
    expect(row).toMatchObject({ mode: 'dedicated', server_user: 'svc', cache_entries: '0' });
    expect(await whoami(ROLES.alice)).toBe('svc');
    expect(await whoami(ROLES.bob)).toBe('svc');
    expect(await stack.lookups()).toBe(lookups + 2); // both looked up again under the new config
    expect(await stack.dynamicPools()).toEqual(['svc']); // one shared pool
    const servers = (await stack.show('SERVERS')).filter((s) => s.database === 'appdb');
    expect(servers.length).toBeGreaterThan(0);
    expect(new Set(servers.map((s) => s.server_user))).toEqual(new Set(['svc']));
    // Passwords are still checked against each user's own stored secret.
    expect((await stack.loginError({ name: 'alice', password: ROLES.svc.password })).code).toBe('28P01');
  });

  it('dedicated → passthrough: the shared pool goes, users run as themselves again', async () => {
    await stack.reload({ auth: { cacheTtl: '3h' } });
    expect(await stack.dynamicPools()).toEqual([]);
    expect(await whoami(ROLES.alice)).toBe('alice');
    expect(await stack.dynamicPools()).toEqual(['alice']);
  });

  it('a static user added with the name of a dynamic pool wins: the dynamic pool is retired, the user pools statically', async () => {
    expect(await whoami(ROLES.carol)).toBe('carol');
    expect(await stack.dynamicPools()).toEqual(['alice', 'carol']);
    const lookups = await stack.lookups();
    const withStatic: ConfigOptions = {
      auth: { cacheTtl: '3h' },
      // carol's password in weir now differs from the one stored in PostgreSQL (weir logs in with server_password).
      staticUsers: [{ username: 'carol', password: 'carol-static', server_password: ROLES.carol.password }],
    };

    await stack.reload(withStatic);

    const pools = await stack.pools();
    expect(pools.get('carol')?.dynamic).toMatch(/^f/);
    expect(await stack.dynamicPools()).toEqual(['alice']); // the auth_query section did not change: alice keeps hers
    expect(await whoami({ name: 'carol', password: 'carol-static' })).toBe('carol');
    // auth_query no longer answers for carol: the password it would accept is refused …
    expect((await stack.loginError(ROLES.carol)).code).toBe('28P01');
    // … and it was not even asked.
    expect(await stack.lookups()).toBe(lookups);
  });

  it('a removed auth_query section destroys the dynamic pools; those users are refused from then on', async () => {
    expect(await whoami(ROLES.alice)).toBe('alice');
    const withStatic: ConfigOptions = {
      auth: { raw: null },
      staticUsers: [{ username: 'carol', password: 'carol-static', server_password: ROLES.carol.password }],
    };

    await stack.reload(withStatic, 'sighup');

    expect(await stack.dynamicPools()).toEqual([]);
    expect(await stack.show('AUTH_QUERY')).toEqual([]);
    const refused = await stack.loginError(ROLES.alice);
    expect(refused.code).toBe('28P01');
    expect(refused.message).toBe('password authentication failed for user "alice"');
    expect(await whoami({ name: 'carol', password: 'carol-static' })).toBe('carol');
  });

  it('an auth_query section added back by RELOAD works at once', async () => {
    await stack.reload({ auth: {} });
    expect(await whoami(ROLES.alice)).toBe('alice');
    expect(await whoami(ROLES.carol)).toBe('carol'); // carol is not static any more
    expect(await stack.dynamicPools()).toEqual(['alice', 'carol']);
  });
});
