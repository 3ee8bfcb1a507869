import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  FakeClock, Kernel, REPORTS, Reports, createLogger, flushMicrotasks, validatePluginSections,
  type Config, type WeirError,
} from '@weir/kernel';
import { AUTH_QUERY_CACHE, AUTH_QUERY_LOOKUP, AuthQueryPlugin } from './plugin.js';
import type { Lookup, LookupTarget } from './lookup.js';

const ALICE = 'md5' + 'a'.repeat(32);
const BOB = 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy';
const QUERY = 'SELECT usename, passwd FROM pg_shadow WHERE usename = $1';

class FakeLookups {
  made: { target: LookupTarget; lookup: Lookup & { calls: string[]; closed: boolean } }[] = [];
  users: Record<string, string> = { alice: ALICE, bob: BOB };
  gate: Promise<void> | null = null;
  factory = (target: LookupTarget) => {
    const self = this;
    const lookup = {
      calls: [] as string[],
      closed: false,
      async fetch(user: string) {
        this.calls.push(user);
        if (self.gate) await self.gate;
        return self.users[user] ?? null;
      },
      async close() {
        this.closed = true;
      },
    };
    this.made.push({ target, lookup });
    return lookup;
  };
  calls(): number {
    return this.made.reduce((n, m) => n + m.lookup.calls.length, 0);
  }
}

function config(pools: Record<string, unknown>, plugins: Record<string, unknown> = { auth_query: { enabled: true } }): Config {
  return {
    general: {
      host: '127.0.0.1', port: 6432, admin_user: 'admin', admin_password: 'admin', connect_timeout: 1000,
      query_wait_timeout: 5000, idle_timeout: 0, server_lifetime: 0, shutdown_timeout: 1000, client_login_timeout: 1000,
      log_level: 'silent', max_client_conn: 100,
    },
    plugins: plugins as Config['plugins'],
    pools: pools as Config['pools'],
  };
}

const section = { query: QUERY, user: 'postgres', password: 'lookup-secret' };
const appdb = { server_host: 'db.internal', server_port: 5433, pool_size: 7, users: [], auth_query: section };

async function start(cfg: Config, opts: { reports?: Reports } = {}) {
  const clock = new FakeClock(0);
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } }),
  });
  const fakes = new FakeLookups();
  const kernel = new Kernel({ config: cfg, clock, logger, plugins: [AuthQueryPlugin] });
  kernel.container.register(AUTH_QUERY_LOOKUP, { useValue: fakes.factory });
  if (opts.reports) kernel.container.register(REPORTS, { useValue: opts.reports });
  await kernel.start();
  const resolve = (user: string, database = 'appdb') => kernel.hooks.resolveFirst('resolveUser', { database, user });
  return { kernel, clock, fakes, lines, resolve, cache: kernel.resolve(AUTH_QUERY_CACHE) };
}

describe('resolveUser', () => {
  it('passthrough: the user gets its own pool, logged in as itself with the fetched secret', async () => {
    const s = await start(config({ appdb }));
    expect(await s.resolve('alice')).toEqual({
      database: 'appdb', user: 'alice', source: '@weir/plugin-auth-query',
      secret: { kind: 'md5', hash: ALICE },
      pool: { key: { database: 'appdb', user: 'alice' }, size: 7, serverAuth: { mode: 'passthrough' } },
    });
    expect((await s.resolve('bob'))?.secret).toEqual({ kind: 'scram-sha-256', verifier: BOB });
    await s.kernel.stop();
  });

  it('dedicated: every user shares the (database, server_user) pool logged in with server_password', async () => {
    const s = await start(config({ appdb: { ...appdb, auth_query: { ...section, server_user: 'svc', server_password: 'svc-pw', pool_size: 3 } } }));
    const alice = await s.resolve('alice');
    const bob = await s.resolve('bob');
    expect(alice?.secret).toEqual({ kind: 'md5', hash: ALICE });
    expect(alice?.pool).toEqual({ key: { database: 'appdb', user: 'svc' }, size: 3, serverAuth: { mode: 'credentials', user: 'svc', password: 'svc-pw' } });
    expect(bob?.pool.key).toEqual({ database: 'appdb', user: 'svc' });
    await s.kernel.stop();
  });

  it('does not answer for an unknown user or a database without auth_query', async () => {
    const s = await start(config({ appdb, plain: { users: [] } }));
    expect(await s.resolve('mallory')).toBeUndefined();
    expect(await s.resolve('alice', 'plain')).toBeUndefined();
    expect(await s.resolve('alice', 'nosuchdb')).toBeUndefined();
    await s.kernel.stop();
  });

  it('looks up over a connection to the pool\'s server, in the right database, with the user bound as $1', async () => {
    const s = await start(config({
      appdb,
      second: { server_host: 'h2', server_port: 5434, server_database: 'real', users: [], auth_query: section },
      third: { users: [], auth_query: { ...section, database: 'authdb' } },
    }));
    const targets = Object.fromEntries(s.fakes.made.map((m) => [m.target.database, m.target]));
    expect(targets.appdb).toMatchObject({ host: 'db.internal', port: 5433, lookupDatabase: 'appdb', user: 'postgres', password: 'lookup-secret', query: QUERY, timeoutMs: 5000 });
    expect(targets.second).toMatchObject({ host: 'h2', port: 5434, lookupDatabase: 'real' });
    expect(targets.third).toMatchObject({ host: '127.0.0.1', port: 5432, lookupDatabase: 'authdb' });
    await s.resolve("x'; DROP TABLE users; --");
    const appdbLookup = s.fakes.made.find((m) => m.target.database === 'appdb')!.lookup;
    expect(appdbLookup.calls).toEqual(["x'; DROP TABLE users; --"]);
    await s.kernel.stop();
  });

  it('200 logins of one user at once make one lookup', async () => {
    const s = await start(config({ appdb }));
    let open!: () => void;
    s.fakes.gate = new Promise((r) => { open = r; });
    const all = Array.from({ length: 200 }, () => s.resolve('alice'));
    await flushMicrotasks();
    open();
    const answers = await Promise.all(all);
    expect(answers.every((a) => a?.user === 'alice')).toBe(true);
    expect(s.fakes.calls()).toBe(1);
    expect(s.cache.stats()[0]).toMatchObject({ lookups: 1, misses: 200 });
    await s.resolve('alice');
    const text = await s.kernel.metrics.metrics();
    expect(text).toMatch(/^weir_auth_query_lookups_total\{database="appdb"\} 1$/m);
    expect(text).toMatch(/^weir_auth_query_cache_misses_total\{database="appdb"\} 200$/m);
    expect(text).toMatch(/^weir_auth_query_cache_hits_total\{database="appdb"\} 1$/m);
    expect(text).toMatch(/^weir_auth_query_cache_entries\{database="appdb"\} 1$/m);
    await s.kernel.stop();
    expect(await s.kernel.metrics.metrics()).not.toContain('weir_auth_query');
  });

  it('never logs a secret', async () => {
    const s = await start(config({ appdb }));
    await s.resolve('alice');
    await s.resolve('alice');
    await s.resolve('bob');
    await s.resolve('mallory');
    await s.kernel.reload(config({ appdb: { ...appdb, auth_query: { ...section, server_user: 'svc', server_password: 'svc-pw' } } }));
    await s.resolve('alice');
    await s.kernel.stop();
    const text = s.lines.join('');
    expect(text.length).toBeGreaterThan(0);
    for (const secret of [ALICE, BOB, 'lookup-secret', 'svc-pw', 'c3RvcmVk']) expect(text).not.toContain(secret);
  });
});

describe('reload', () => {
  it('a changed section (any field, server_user included) clears that database\'s cache and closes its lookup', async () => {
    const s = await start(config({ appdb, other: { ...appdb } }));
    await s.resolve('alice');
    await s.resolve('alice', 'other');
    const before = s.fakes.made.find((m) => m.target.database === 'appdb')!.lookup;
    await s.kernel.reload(config({ appdb: { ...appdb, auth_query: { ...section, server_user: 'svc' } }, other: { ...appdb } }));
    expect(before.closed).toBe(true);
    expect(s.cache.stats().find((x) => x.database === 'appdb')).toMatchObject({ mode: 'dedicated', entries: 0, lookups: 0 });
    expect(s.cache.stats().find((x) => x.database === 'other')).toMatchObject({ mode: 'passthrough', entries: 1 });
    expect((await s.resolve('alice'))?.pool.key.user).toBe('svc');
    expect(s.fakes.calls()).toBe(3); // appdb looked up again, other still cached
    await s.resolve('alice', 'other');
    expect(s.fakes.calls()).toBe(3);
    for (const change of [{ cache_ttl: '2h' }, { query: 'SELECT $1, NULL' }, { password: 'rotated' }, { min_interval: '3s' }]) {
      const n = s.fakes.made.length;
      await s.kernel.reload(config({ appdb: { ...appdb, auth_query: { ...section, ...change } }, other: { ...appdb } }));
      expect(s.fakes.made.length, JSON.stringify(change)).toBe(n + 1);
    }
    await s.kernel.stop();
  });

  it('a removed section: its users are unknown from then on', async () => {
    const s = await start(config({ appdb }));
    expect(await s.resolve('alice')).toBeDefined();
    const { auth_query: _gone, ...without } = appdb;
    await s.kernel.reload(config({ appdb: without }));
    expect(s.fakes.made[0]!.lookup.closed).toBe(true);
    expect(await s.resolve('alice')).toBeUndefined();
    expect(s.cache.stats()).toEqual([]);
    await s.kernel.stop();
  });

  it('an unchanged section keeps its cache; a new pool_size applies at once', async () => {
    const s = await start(config({ appdb }));
    await s.resolve('alice');
    await s.kernel.reload(config({ appdb: { ...appdb, pool_size: 9, users: [{ username: 'app' }] } }));
    expect((await s.resolve('alice'))?.pool.size).toBe(9);
    expect(s.fakes.calls()).toBe(1);
    await s.kernel.stop();
  });

  it('a login whose lookup was in flight during the change follows the new config', async () => {
    const s = await start(config({ appdb }));
    let open!: () => void;
    s.fakes.gate = new Promise((r) => { open = r; });
    const pending = s.resolve('alice');
    await flushMicrotasks();
    await s.kernel.reload(config({ appdb: { ...appdb, auth_query: { ...section, server_user: 'svc' } } }));
    open();
    expect((await pending)?.pool.serverAuth.mode).toBe('credentials');
    expect(s.fakes.made).toHaveLength(2);
    await s.kernel.stop();
  });
});

describe('SHOW AUTH_QUERY and the cache service', () => {
  it('one row per database with auth_query', async () => {
    const reports = new Reports();
    const s = await start(config({ appdb, dedicated: { users: [], auth_query: { ...section, server_user: 'svc' } }, plain: { users: [] } }), { reports });
    await s.resolve('alice');
    await s.resolve('alice');
    await s.resolve('mallory');
    const report = reports.get('auth_query')!();
    expect(report.columns).toEqual(['database', 'mode', 'server_user', 'cache_entries', 'hits', 'misses', 'lookups', 'not_found', 'failures', 'last_error']);
    expect(report.rows).toEqual([
      ['appdb', 'passthrough', null, 2, 1, 2, 2, 1, 0, null],
      ['dedicated', 'dedicated', 'svc', 0, 0, 0, 0, 0, 0, null],
    ]);
    s.cache.clear('appdb');
    expect(reports.get('AUTH_QUERY')!().rows[0]![3]).toBe(0);
    await s.kernel.stop();
    expect(reports.get('AUTH_QUERY')).toBeUndefined();
  });

  it('counts a failed lookup and shows its error', async () => {
    const reports = new Reports();
    const s = await start(config({ appdb }), { reports });
    s.fakes.made[0]!.lookup.fetch = async () => { throw new Error('relation "accounts" does not exist'); };
    const err = await s.resolve('alice').catch((e: unknown) => e) as WeirError;
    expect((err.cause as WeirError).details.sqlstate).toBe('08006');
    expect(reports.get('AUTH_QUERY')!().rows[0]!.slice(8)).toEqual([1, 'relation "accounts" does not exist']);
    await s.kernel.stop();
  });
});

describe('config', () => {
  const sectionOf = (extra: Record<string, unknown>) => ({ appdb: { users: [], auth_query: { ...section, ...extra } } });

  it('a pool auth_query section while the plugin is disabled is an error naming the key path', () => {
    const cfg = config(sectionOf({}), { auth_query: { enabled: false } });
    expect(() => validatePluginSections(cfg, [AuthQueryPlugin])).toThrow(expect.objectContaining({ code: 'WEIR_E_PLUGIN_DISABLED_CONFIG' }));
    expect(() => validatePluginSections(cfg, [AuthQueryPlugin])).toThrow(/pools\.appdb\.auth_query/);
    expect(() => validatePluginSections(config(sectionOf({}), {}), [AuthQueryPlugin])).toThrow(/pools\.appdb\.auth_query/);
  });

  it('validates the section: durations parsed, $1 required, server_password needs server_user, no unknown keys', () => {
    const ok = config(sectionOf({ cache_ttl: '10m', min_interval: '250ms' }));
    validatePluginSections(ok, [AuthQueryPlugin]);
    expect(ok.pools.appdb.auth_query).toMatchObject({ cache_ttl: 600_000, cache_failure_ttl: 30_000, min_interval: 250, password: 'lookup-secret' });
    for (const bad of [{ query: "SELECT passwd FROM pg_shadow WHERE usename = 'x'" }, { server_password: 'x' }, { cache_tll: '1h' }, { cache_ttl: 'forever' }]) {
      expect(() => validatePluginSections(config(sectionOf(bad)), [AuthQueryPlugin]), JSON.stringify(bad))
        .toThrow(expect.objectContaining({ code: 'WEIR_E_CONFIG_INVALID' }));
    }
  });
});
