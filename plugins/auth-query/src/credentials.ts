import { ClientError, messageOf, type WeirError, type AuthSecret, type Clock } from '@weir/kernel';
import type { Lookup } from './lookup.js';
import { secretFromStored } from './secret.js';

/** A lookup failed (the query errored, the connection failed, the answer was unusable). */
export const AUTH_QUERY_FAILED = 'WEIR_E_AUTH_QUERY_FAILED';

/** SQLSTATE 08006 connection_failure: what a client hears when its user cannot be looked up. */
const LOOKUP_FAILED_SQLSTATE = '08006';

export interface CredentialSettings {
  readonly cacheTtlMs: number;
  readonly failureTtlMs: number;
  readonly minIntervalMs: number;
  readonly maxEntries: number;
}

export interface CredentialStats {
  /** Users whose cached answer (found or not) is still served without a lookup. */
  entries: number;
  /** Logins answered from the cache. */
  hits: number;
  /** Logins the cache could not answer (they ran a lookup or waited for the one in flight). */
  misses: number;
  /** Queries run against PostgreSQL. */
  lookups: number;
  /** Lookups that found no user (or a user without a password). */
  notFound: number;
  /** Lookups that failed. */
  failures: number;
  lastError: string | null;
}

interface Entry {
  /** The last answer: the user's secret, or null when there is no such user. */
  secret: AuthSecret | null;
  /** Set when the last lookup failed. */
  error: WeirError | null;
  /** Until then the last answer is served without asking PostgreSQL. */
  answersUntil: number;
  /** When the last lookup started: none again before min_interval has passed. */
  startedAt: number;
  /** The lookup running now; every login of this user waits for it. */
  inflight: Promise<AuthSecret | null> | null;
}

/**
 * Credentials of one database's users, looked up in PostgreSQL and cached: found users for
 * cache_ttl, unknown ones for cache_failure_ttl. A user is looked up at most once per
 * min_interval, and never twice at once: logins that arrive while a lookup runs share it.
 * Secrets stay in here and in the answers; they are never logged or put in errors.
 */
export class DatabaseCredentials {
  private readonly entries = new Map<string, Entry>();
  private readonly counters: Omit<CredentialStats, 'entries'> = { hits: 0, misses: 0, lookups: 0, notFound: 0, failures: 0, lastError: null };
  private closed = false;

  constructor(
    readonly database: string,
    private readonly lookup: Lookup,
    private readonly settings: CredentialSettings,
    private readonly clock: Clock,
    private readonly onFailure: (user: string, error: string) => void = () => {},
  ) {}

  /** The user's secret, or null when the user does not exist. Rejects with WEIR_E_AUTH_QUERY_FAILED. */
  get(user: string): Promise<AuthSecret | null> {
    const now = this.clock.now();
    const e = this.entries.get(user);
    if (e !== undefined) {
      if (e.inflight !== null) {
        this.counters.misses++;
        return e.inflight;
      }
      if (now < e.answersUntil || now - e.startedAt < this.settings.minIntervalMs) {
        this.counters.hits++;
        return e.error !== null ? Promise.reject(e.error) : Promise.resolve(e.secret);
      }
    }
    this.counters.misses++;
    return this.start(user, e, now);
  }

  /** Forget one user, or every user. A lookup in flight still answers the logins waiting for it. */
  clear(user?: string): void {
    if (user === undefined) this.entries.clear();
    else this.entries.delete(user);
  }

  stats(): CredentialStats {
    const now = this.clock.now();
    let entries = 0;
    for (const e of this.entries.values()) if (e.inflight === null && e.error === null && now < e.answersUntil) entries++;
    return { entries, ...this.counters };
  }

  /** Drop the cache and close the lookup connection (lookups in flight finish first). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.entries.clear();
    await this.lookup.close();
  }

  private start(user: string, previous: Entry | undefined, now: number): Promise<AuthSecret | null> {
    let e = previous;
    if (e === undefined) {
      this.makeRoom(now);
      e = { secret: null, error: null, answersUntil: 0, startedAt: now, inflight: null };
    } else {
      this.entries.delete(user); // re-inserted below: the map stays in lookup order, oldest first
    }
    this.entries.set(user, e);
    e.startedAt = now;
    this.counters.lookups++;
    const entry = e;
    const run = this.run(user, entry);
    entry.inflight = run;
    return run;
  }

  private async run(user: string, e: Entry): Promise<AuthSecret | null> {
    await null; // the caller records this promise as in flight before the lookup can settle
    try {
      const stored = await this.lookup.fetch(user);
      const secret = secretFromStored(stored);
      e.secret = secret;
      e.error = null;
      e.answersUntil = this.clock.now() + (secret === null ? this.settings.failureTtlMs : this.settings.cacheTtlMs);
      if (secret === null) this.counters.notFound++;
      return secret;
    } catch (err) {
      const why = messageOf(err);
      this.counters.failures++;
      this.counters.lastError = why;
      this.onFailure(user, why);
      const error = new ClientError(
        AUTH_QUERY_FAILED,
        LOOKUP_FAILED_SQLSTATE,
        `cannot look up user "${user}" right now (auth_query of database "${this.database}" failed)`,
        { database: this.database, user },
      );
      e.secret = null;
      e.error = error;
      e.answersUntil = 0; // a failure is not remembered beyond min_interval
      throw error;
    } finally {
      e.inflight = null;
    }
  }

  /** Keep at most maxEntries: first forget answers that have run out, then the oldest lookups. */
  private makeRoom(now: number): void {
    const max = this.settings.maxEntries;
    if (this.entries.size < max) return;
    for (const [user, e] of this.entries) {
      if (e.inflight === null && now >= e.answersUntil && now - e.startedAt >= this.settings.minIntervalMs) this.entries.delete(user);
    }
    for (const [user, e] of this.entries) {
      if (this.entries.size < max) break;
      if (e.inflight === null) this.entries.delete(user);
    }
  }
}
