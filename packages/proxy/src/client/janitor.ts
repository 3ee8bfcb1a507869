import type { SessionTimeouts } from './host.js';

/** What the janitor asks of a session. */
export interface Expiring {
  expire(now: number, timeouts: SessionTimeouts): void;
}

/**
 * Once a second: advance the coarse clock sessions stamp their state changes with, and let every
 * session check its timeouts (query_timeout, transaction_timeout, idle_transaction_timeout,
 * client_idle_timeout) — one timer for the process instead of one per session and query, as
 * PgBouncer's janitor does. Timeouts are therefore exact to about a second.
 */
export class Janitor {
  /** Milliseconds since the epoch as of the last tick. */
  now = Date.now();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly sessions: Iterable<Expiring>,
    private readonly timeouts: () => SessionTimeouts,
    private readonly periodMs = 1_000,
  ) {}

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.tick(), this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  tick(now = Date.now()): void {
    this.now = now;
    const t = this.timeouts();
    if (t.query_timeout <= 0 && t.transaction_timeout <= 0 && t.idle_transaction_timeout <= 0 && t.client_idle_timeout <= 0) return;
    for (const s of this.sessions) s.expire(now, t);
  }
}
