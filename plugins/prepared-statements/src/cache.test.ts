/**
 * The per-connection statement cache: LRU bound, doubtful names, Parses in flight; the
 * StatementCache report; and the write-up's cleanup callback — the kernel's `drop` hook empties
 * a connection's cache whenever that connection closes, whatever the reason.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock, Kernel, Pool, type Config, type DropReason } from '@weir/kernel';
import { ConnectionStatements } from './connection-cache.js';
import { StatementCache, STATEMENT_CACHE } from './statement-cache.js';
import { StatementRegistry, statementBytes } from './statements.js';
import { ClientStatements } from './client-statements.js';
import { PreparedStatementsPlugin, configSchema } from './plugin.js';

describe('ConnectionStatements (LRU)', () => {
  it('keeps at most max names, evicting the least recently used; has() and add() make a name recent', () => {
    const c = new ConnectionStatements('app@db', 3);
    expect(c.add('a')).toBeNull();
    expect(c.add('b')).toBeNull();
    expect(c.add('c')).toBeNull();
    expect(c.list()).toEqual(['a', 'b', 'c']);
    expect(c.has('a')).toBe(true); // a is now the most recent
    expect(c.add('d')).toBe('b');
    expect(c.list()).toEqual(['c', 'a', 'd']);
    expect(c.add('c')).toBeNull(); // re-adding touches, never evicts
    expect(c.list()).toEqual(['a', 'd', 'c']);
    expect(c.add('e')).toBe('a');
    expect(c.size).toBe(3);
    expect(c.has('a')).toBe(false);
    expect(c.has('zz')).toBe(false);
  });

  it('a bound of 1 evicts on every new name', () => {
    const c = new ConnectionStatements('p', 1);
    expect(c.add('a')).toBeNull();
    expect(c.add('b')).toBe('a');
    expect(c.add('b')).toBeNull();
    expect(c.add('c')).toBe('b');
    expect(c.list()).toEqual(['c']);
  });

  it('delete forgets a name; clear forgets all, keeping them doubtful until resolved', () => {
    const c = new ConnectionStatements('p', 5);
    c.add('a');
    c.add('b');
    c.delete('a');
    expect(c.list()).toEqual(['b']);
    c.add('a');
    const dropped = c.clear();
    expect(c.size).toBe(0);
    expect(dropped.map(([n]) => n).sort()).toEqual(['a', 'b']);
    expect(c.strays().map(([n]) => n).sort()).toEqual(['a', 'b']);
    for (const [n, v] of dropped) c.resolve(n, v);
    expect(c.strays()).toEqual([]);
    expect(c.doubts).toBe(0);
  });

  it('a doubt is resolved only by the settlement of its latest version', () => {
    const c = new ConnectionStatements('p', 5);
    const v1 = c.doubt('x');
    const v2 = c.doubt('x');
    c.resolve('x', v1); // stale
    expect(c.isDoubtful('x')).toBe(true);
    c.resolve('x', v2);
    expect(c.isDoubtful('x')).toBe(false);
  });

  it('strays are doubtful names the cache does not count; confirm() settles a counted one', () => {
    const c = new ConnectionStatements('p', 5);
    c.add('a');
    c.doubt('a');
    c.doubt('b');
    expect(c.strays().map(([n]) => n)).toEqual(['b']);
    expect(c.settled('a')).toBe(false);
    c.confirm('a');
    c.confirm('b'); // not counted: stays doubtful
    expect(c.settled('a')).toBe(true);
    expect(c.isDoubtful('b')).toBe(true);
  });

  it('a name with a Parse in flight is not settled until every such Parse is answered', () => {
    const c = new ConnectionStatements('p', 5);
    c.add('a');
    c.parseSent('a');
    c.parseSent('a');
    expect(c.settled('a')).toBe(false);
    c.parseDone('a');
    expect(c.settled('a')).toBe(false);
    c.parseDone('a');
    expect(c.settled('a')).toBe(true);
    expect(c.settled('nope')).toBe(false);
  });
});

describe('StatementCache', () => {
  it('one cache per ConnectionId, a report row per pool', () => {
    const cache = new StatementCache(2);
    cache.for(1, 'a@db').add('s1');
    cache.for(1, 'a@db').add('s2');
    cache.for(2, 'a@db').add('s1');
    cache.for(3, 'b@db').add('s9');
    cache.poolStats('a@db').hits += 5;
    cache.poolStats('a@db').misses += 3;
    cache.poolStats('c@db').evictions += 1;
    expect(cache.connections).toBe(3);
    expect(cache.for(1, 'a@db')).toBe(cache.peek(1));
    expect(cache.report()).toEqual([
      { pool: 'a@db', connections: 2, statements: 3, hits: 5, misses: 3, evictions: 0, stale: 0 },
      { pool: 'b@db', connections: 1, statements: 1, hits: 0, misses: 0, evictions: 0, stale: 0 },
      { pool: 'c@db', connections: 0, statements: 0, hits: 0, misses: 0, evictions: 1, stale: 0 },
    ]);
    expect(cache.drop(1)).toBe(true);
    expect(cache.drop(1)).toBe(false);
    expect(cache.peek(1)).toBeUndefined();
    expect(cache.connections).toBe(2);
  });

  it('the registry shares one server statement per (query, parameter types)', () => {
    const r = new StatementRegistry({ maxStatements: 10, maxBytes: 1 << 20 });
    const a = r.intern('SELECT $1', []);
    expect(r.intern('SELECT $1', [])).toBe(a);
    const typed = r.intern('SELECT $1', [23]);
    expect(typed.name).not.toBe(a.name);
    expect(r.intern('SELECT $1', [23])).toBe(typed);
    expect(r.intern('SELECT 2', []).name).not.toBe(a.name);
    expect(new Set([a.name, typed.name]).size).toBe(2);
    expect(a.name.startsWith('weir_')).toBe(true);
  });

  it('the registry is bounded by bytes: least recently used shapes go first, and their bytes with them', () => {
    const r = new StatementRegistry({ maxStatements: 100, maxBytes: 1000 });
    const q = (i: number) => `SELECT ${i} /* ${'x'.repeat(280)} */`;
    const a = r.intern(q(1), []);
    expect(a.bytes).toBe(statementBytes(q(1), []));
    r.intern(q(2), []);
    r.intern(q(3), []);
    expect(r.bytes).toBe(3 * a.bytes);
    expect(r.intern(q(1), [])).toBe(a);       // touched: now the most recent
    r.intern(q(4), []);                        // over 1000 bytes: q(2) goes
    expect(r.size).toBe(3);
    expect(r.bytes).toBeLessThanOrEqual(1000);
    expect(r.evictions).toBe(1);
    expect(r.peek(q(2), [])).toBeUndefined();
    expect(r.peek(q(1), [])).toBe(a);
    const huge = r.intern('SELECT 1 -- ' + 'y'.repeat(2000), []);
    expect(huge.name).toMatch(/^weir_/);       // usable, but not remembered
    expect(r.bytes).toBeLessThanOrEqual(1000);
    expect(statementBytes('SELECT $1', [23, 25])).toBe(9 + 8);
    expect(statementBytes('é', [])).toBe(2);
  });

  it("a client's names hold bytes: each its statement's, its own and 64; given back on Close, DEALLOCATE and DISCARD", () => {
    const r = new StatementRegistry({ maxStatements: 10, maxBytes: 1 << 20 });
    const a = r.intern('SELECT 1', []);
    const b = r.intern('SELECT 22', []);
    const cost = (name: string, s: { bytes: number }) => s.bytes + 64 + name.length;
    const c = new ClientStatements();
    c.set('s1', a);
    c.parsed('s2', a, 7);
    c.set('', b);
    expect(c.bytes).toBe(cost('s1', a) + cost('s2', a) + cost('', b));
    expect(c.parsedAt('s2')).toBe(7);
    expect(c.parsedAt('s1')).toBe(0);
    expect(c.bytesWith('s1', b.bytes)).toBe(cost('s1', b) + cost('s2', a) + cost('', b));
    c.set('s1', b);
    expect(c.bytes).toBe(cost('s1', b) + cost('s2', a) + cost('', b));
    const one = c.takeOne('s2');
    expect(c.bytes).toBe(cost('s1', b) + cost('', b));
    expect(c.parsedAt('s2')).toBe(0);
    c.restore(one);
    expect(c.bytes).toBe(cost('s1', b) + cost('s2', a) + cost('', b));
    const all = c.takeNamed();
    expect(c.bytes).toBe(cost('', b));
    c.set('s1', a);                            // named again since: restore keeps the new one
    c.restore(all);
    expect(c.get('s1')).toBe(a);
    expect(c.get('s2')).toBe(a);
    expect(c.bytes).toBe(cost('s1', a) + cost('s2', a) + cost('', b));
    c.set('', null);
    c.set('s1', null);
    c.set('s2', null);
    expect(c.bytes).toBe(0);
  });

  it('config: defaults, strict keys', () => {
    expect(configSchema.parse({})).toEqual({ max_per_connection: 1000, cache_anonymous: false, max_statements: 10_000,
      max_statement_bytes: 64 * 1024 ** 2, max_client_statement_bytes: 16 * 1024 ** 2 });
    expect(configSchema.parse({ max_statement_bytes: '1MB', max_client_statement_bytes: 4096 })).toMatchObject({ max_statement_bytes: 1024 ** 2, max_client_statement_bytes: 4096 });
    expect(() => configSchema.parse({ max_client_statement_bytes: '12 parsecs' })).toThrow(/expected a size/);
    expect(() => configSchema.parse({ max_statement_bytes: 0 })).toThrow();
    expect(() => configSchema.parse({ max_per_connection: 0 })).toThrow();
    expect(() => configSchema.parse({ bogus: 1 })).toThrow();
  });
});

// ------------------------------------------------------------------ the drop hook (kernel host)

function config(max = 3): Config {
  return {
    general: {
      host: '127.0.0.1', port: 6432, admin_user: 'admin', admin_password: 'admin', connect_timeout: 1000,
      query_wait_timeout: 0, idle_timeout: 0, server_lifetime: 0, shutdown_timeout: 1000, client_login_timeout: 1000,
      log_level: 'silent', max_client_conn: 100,
    },
    plugins: { prepared_statements: { enabled: true, max_per_connection: max } },
    pools: { appdb: { users: [] } },
  };
}

async function kernelWithPool(opts: { max?: number; lifetimeMs?: number } = {}) {
  const clock = new FakeClock(0);
  const kernel = new Kernel({ config: config(opts.max), clock, plugins: [PreparedStatementsPlugin] });
  const drops: Array<[number, DropReason]> = [];
  kernel.hooks.on('drop', (c, reason) => void drops.push([c.id, reason]), 'test');
  await kernel.start();
  let n = 0;
  const bad = new Set<number>();
  const pool = new Pool<{ n: number }>({
    info: { name: 'app@appdb', key: { database: 'appdb', user: 'app' }, kind: 'static' },
    connector: { connect: async () => ({ n: ++n }), destroy: () => {}, validate: (c) => !bad.has(c.n) },
    options: { max: 2, acquireTimeoutMs: 1000, maxLifetimeMs: opts.lifetimeMs ?? 0 },
    hooks: kernel.hooks,
    clock,
  });
  return { kernel, pool, clock, drops, cache: kernel.resolve(STATEMENT_CACHE) as StatementCache, sick: () => { for (let i = 1; i <= n; i++) bad.add(i); } };
}

describe('cleanup on drop (kernel `drop` hook)', () => {
  it('the plugin registers its cache as a kernel service', async () => {
    const { kernel, cache } = await kernelWithPool();
    expect(cache).toBeInstanceOf(StatementCache);
    expect(cache.maxPerConnection).toBe(3);
    await kernel.stop();
  });

  it('a connection destroyed by its user loses its cache; a released one keeps it', async () => {
    const { kernel, pool, cache, drops } = await kernelWithPool();
    const a = await pool.acquire();
    const b = await pool.acquire();
    cache.for(a.id, 'app@appdb').add('weir_1');
    cache.for(b.id, 'app@appdb').add('weir_1');
    cache.for(b.id, 'app@appdb').add('weir_2');
    a.release();
    expect(cache.peek(a.id)?.list()).toEqual(['weir_1']);
    b.destroy('error');
    expect(drops).toEqual([[b.id, 'error']]);
    expect(cache.peek(b.id)).toBeUndefined();
    expect(cache.peek(a.id)?.list()).toEqual(['weir_1']);
    expect(cache.report()[0]).toMatchObject({ pool: 'app@appdb', connections: 1, statements: 1 });
    await kernel.stop();
  });

  it('every way a connection closes empties its cache: failed validation, lifetime, retired pool', async () => {
    const { kernel, pool, cache, drops, sick, clock } = await kernelWithPool({ lifetimeMs: 60_000 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    cache.for(a.id, 'app@appdb').add('x');
    cache.for(b.id, 'app@appdb').add('y');
    a.release();
    b.release();
    sick(); // next acquire finds them bad
    const c = await pool.acquire();
    expect(c.id).not.toBe(a.id);
    expect(cache.peek(a.id)).toBeUndefined();
    cache.for(c.id, 'app@appdb').add('z');
    c.release();
    clock.advance(61_000);
    const d = await pool.acquire(); // c is past its lifetime
    expect(d.id).not.toBe(c.id);
    expect(cache.peek(c.id)).toBeUndefined();
    cache.for(d.id, 'app@appdb').add('w');
    d.release();
    await pool.retire();
    expect(new Set(drops.map(([, r]) => r))).toEqual(new Set(['error', 'lifetime', 'retired']));
    for (const [id] of drops) expect(cache.peek(id)).toBeUndefined();
    expect(cache.connections).toBe(0);
    await kernel.stop();
  });

  it('many connections come and go: no cache outlives its connection', async () => {
    const { kernel, pool, cache } = await kernelWithPool({ max: 2 });
    const live = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const lease = await pool.acquire();
      live.add(lease.id);
      const conn = cache.for(lease.id, 'app@appdb');
      conn.add(`s${i % 5}`);
      conn.add(`s${(i + 1) % 5}`);
      conn.add(`s${(i + 2) % 5}`);
      expect(conn.size).toBeLessThanOrEqual(2);
      if (i % 3 === 0) {
        lease.destroy('error');
        live.delete(lease.id);
      } else lease.release();
      expect(cache.connections).toBeLessThanOrEqual(2);
    }
    for (let id = 1; id < 1000; id++) if (!live.has(id)) expect(cache.peek(id)).toBeUndefined();
    await kernel.stop();
  });
});
