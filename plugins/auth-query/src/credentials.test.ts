import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks, type WeirError } from '@weir/kernel';
import { AUTH_QUERY_FAILED, DatabaseCredentials, type CredentialSettings } from './credentials.js';
import type { Lookup } from './lookup.js';
import { secretFromStored } from './secret.js';
import { storedPassword } from './lookup.js';

const ALICE = 'md5' + 'a'.repeat(32);
const VERIFIER = 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy';

/** A lookup over a map; counts calls; can be held open or made to fail. */
class FakeLookup implements Lookup {
  calls: string[] = [];
  failWith: Error | null = null;
  gate: Promise<void> | null = null;
  closed = false;
  constructor(public users: Record<string, string | null> = { alice: ALICE }) {}
  async fetch(user: string): Promise<unknown> {
    this.calls.push(user);
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
    return user in this.users ? this.users[user] : null;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const settings: CredentialSettings = { cacheTtlMs: 60_000, failureTtlMs: 5_000, minIntervalMs: 1_000, maxEntries: 100 };

function make(over: Partial<CredentialSettings> = {}, lookup = new FakeLookup()) {
  const clock = new FakeClock(1_000_000);
  const failures: string[] = [];
  const creds = new DatabaseCredentials('appdb', lookup, { ...settings, ...over }, clock, (user, why) => failures.push(`${user}: ${why}`));
  return { clock, lookup, creds, failures };
}

describe('DatabaseCredentials', () => {
  it('caches a found user for cache_ttl, then looks it up again', async () => {
    const { clock, lookup, creds } = make();
    expect(await creds.get('alice')).toEqual({ kind: 'md5', hash: ALICE });
    clock.advance(59_999);
    expect(await creds.get('alice')).toEqual({ kind: 'md5', hash: ALICE });
    expect(lookup.calls).toEqual(['alice']);
    clock.advance(1);
    await creds.get('alice');
    expect(lookup.calls).toEqual(['alice', 'alice']);
    expect(creds.stats()).toMatchObject({ entries: 1, hits: 1, misses: 2, lookups: 2, notFound: 0, failures: 0, lastError: null });
  });

  it('caches an unknown user for cache_failure_ttl', async () => {
    const { clock, lookup, creds } = make();
    expect(await creds.get('mallory')).toBeNull();
    clock.advance(4_999);
    expect(await creds.get('mallory')).toBeNull();
    expect(lookup.calls).toHaveLength(1);
    lookup.users.mallory = ALICE; // created in PostgreSQL meanwhile
    clock.advance(1);
    expect(await creds.get('mallory')).toEqual({ kind: 'md5', hash: ALICE });
    expect(lookup.calls).toHaveLength(2);
    expect(creds.stats()).toMatchObject({ notFound: 1, lookups: 2, hits: 1 });
  });

  it('looks a user up at most once per min_interval, even with nothing cached', async () => {
    const { clock, lookup, creds } = make({ cacheTtlMs: 0, failureTtlMs: 0, minIntervalMs: 1_000 });
    await creds.get('alice');
    clock.advance(500);
    await creds.get('alice');
    clock.advance(499);
    await creds.get('alice');
    expect(lookup.calls).toHaveLength(1);
    clock.advance(1);
    await creds.get('alice');
    expect(lookup.calls).toHaveLength(2);
    // A user never seen is looked up at once: min_interval is per user.
    await creds.get('bob');
    expect(lookup.calls).toEqual(['alice', 'alice', 'bob']);
  });

  it('runs one lookup for many logins of one user at once, and answers them all', async () => {
    const lookup = new FakeLookup();
    let open!: () => void;
    lookup.gate = new Promise((r) => { open = r; });
    const { creds } = make({}, lookup);
    const all = Array.from({ length: 200 }, () => creds.get('alice'));
    await flushMicrotasks();
    expect(lookup.calls).toEqual(['alice']);
    open();
    const answers = await Promise.all(all);
    expect(answers.every((a) => a !== null && a.kind === 'md5')).toBe(true);
    expect(lookup.calls).toHaveLength(1);
    expect(creds.stats()).toMatchObject({ lookups: 1, misses: 200, hits: 0 });
  });

  it('one lookup at once per user, even past min_interval', async () => {
    const lookup = new FakeLookup();
    let open!: () => void;
    lookup.gate = new Promise((r) => { open = r; });
    const { clock, creds } = make({ minIntervalMs: 10 }, lookup);
    const first = creds.get('alice');
    await flushMicrotasks();
    clock.advance(10_000); // a slow lookup
    const second = creds.get('alice');
    open();
    expect(await second).toEqual(await first);
    expect(lookup.calls).toHaveLength(1);
  });

  it('a failed lookup is a coded error naming SQLSTATE 08006, counted, not cached beyond min_interval', async () => {
    const lookup = new FakeLookup();
    lookup.failWith = new Error('connection refused');
    const { clock, creds, failures } = make({}, lookup);
    const err = await creds.get('alice').catch((e: unknown) => e) as WeirError;
    expect(err.code).toBe(AUTH_QUERY_FAILED);
    expect(err.details.sqlstate).toBe('08006');
    expect(err.message).toMatch(/alice/);
    expect(err.message).not.toMatch(/refused/); // the cause is for the log, not for the client
    expect(failures).toEqual(['alice: connection refused']);
    // Within min_interval the same answer, no new query.
    await expect(creds.get('alice')).rejects.toBe(err);
    expect(lookup.calls).toHaveLength(1);
    lookup.failWith = null;
    clock.advance(1_000);
    expect(await creds.get('alice')).toEqual({ kind: 'md5', hash: ALICE });
    expect(creds.stats()).toMatchObject({ failures: 1, lookups: 2, lastError: 'connection refused' });
  });

  it('a user with no password is an unknown user', async () => {
    const { creds } = make({}, new FakeLookup({ nopw: null, empty: '' }));
    expect(await creds.get('nopw')).toBeNull();
    expect(await creds.get('empty')).toBeNull();
    expect(creds.stats().notFound).toBe(2);
  });

  it('clear() forgets answers; the next login looks up again', async () => {
    const { lookup, creds } = make();
    await creds.get('alice');
    await creds.get('bob');
    creds.clear('alice');
    await creds.get('alice');
    await creds.get('bob');
    expect(lookup.calls).toEqual(['alice', 'bob', 'alice']);
    creds.clear();
    expect(creds.stats().entries).toBe(0);
    await creds.get('bob');
    expect(lookup.calls).toHaveLength(4);
  });

  it('holds at most cache_max_entries users, forgetting run-out answers first, then the oldest', async () => {
    const lookup = new FakeLookup({ a: ALICE, b: ALICE, c: ALICE, d: ALICE });
    const { clock, creds } = make({ maxEntries: 2, failureTtlMs: 100, minIntervalMs: 0 }, lookup);
    await creds.get('x'); // unknown: runs out after 100ms
    await creds.get('a');
    clock.advance(100);
    await creds.get('b'); // full: x goes
    await creds.get('a');
    expect(lookup.calls).toEqual(['x', 'a', 'b']);
    await creds.get('c'); // full, nothing run out: the oldest lookup (a) goes
    await creds.get('b');
    expect(lookup.calls).toEqual(['x', 'a', 'b', 'c']);
    await creds.get('a');
    expect(lookup.calls).toEqual(['x', 'a', 'b', 'c', 'a']);
  });

  it('close() closes the lookup connection', async () => {
    const { lookup, creds } = make();
    await creds.close();
    expect(lookup.closed).toBe(true);
  });
});

describe('stored passwords', () => {
  it('tells md5 hashes, SCRAM verifiers and plaintext apart', () => {
    expect(secretFromStored(ALICE)).toEqual({ kind: 'md5', hash: ALICE });
    expect(secretFromStored(VERIFIER)).toEqual({ kind: 'scram-sha-256', verifier: VERIFIER });
    expect(secretFromStored('hunter2')).toEqual({ kind: 'plain', password: 'hunter2' });
    expect(secretFromStored('md5-is-not-a-hash')).toEqual({ kind: 'plain', password: 'md5-is-not-a-hash' });
    expect(secretFromStored(null)).toBeNull();
    expect(secretFromStored('')).toBeNull();
    expect(() => secretFromStored('SCRAM-SHA-256$broken')).toThrow(/malformed/);
  });

  it('reads the second column of one row, or the only column', () => {
    expect(storedPassword({ rows: [], fields: [{}, {}] })).toBeNull();
    expect(storedPassword({ rows: [['alice', ALICE]], fields: [{}, {}] })).toBe(ALICE);
    expect(storedPassword({ rows: [[ALICE]], fields: [{}] })).toBe(ALICE);
    expect(storedPassword({ rows: [['alice', null]], fields: [{}, {}] })).toBeNull();
    expect(() => storedPassword({ rows: [['a', 'x'], ['a', 'y']], fields: [{}, {}] })).toThrow(/2 rows/);
  });
});
