import { ConnectionBudget } from './budget.js';

/** How a worker's share of a cap talks to whoever holds the whole cap (the supervisor). */
export interface ShareLink {
  /** The share is used up and clients wait: ask for one more slot (answered by `granted`). */
  ask(key: string, limit: number): void;
  /** `n` slots of the share are handed back (after `reclaim`); `declined`: asked-for slots this worker will not give. */
  release(key: string, n: number, declined?: number): void;
  /** The cap changed (RELOAD): the supervisor takes back what the shares hold above it. */
  limit?(key: string, limit: number): void;
}

/**
 * One worker's part of a cap that holds across workers (pool_size, max_db_connections,
 * max_user_connections with general.workers > 1). The worker may hold `share` connections; the
 * supervisor hands out shares whose sum never exceeds the cap. Checks stay synchronous: the link
 * is used only when the share is used up (ask) or the supervisor takes slots back (reclaim).
 * `limit` is the whole cap (0 = none: the share is not used).
 */
export class SharedBudget extends ConnectionBudget {
  share = 0;
  /** Slots the supervisor asked back that are still in use: given back as they close. */
  owed = 0;
  private asking = false;
  /** Connections closed to pay what is owed that still count in `used` until they are gone. */
  private closing = 0;

  constructor(name: string, limit: number, private readonly link: ShareLink) {
    super(name, limit);
  }

  override get limit(): number {
    return super.limit;
  }

  override set limit(n: number) {
    const was = super.limit;
    super.limit = n;
    if (n !== was) this.link.limit?.(this.name, n);
  }

  private get allowed(): number {
    return this.share - this.owed;
  }

  override get full(): boolean {
    return this.limit > 0 && this.used >= this.allowed;
  }

  override get over(): boolean {
    return this.limit > 0 && this.used - this.closing > this.allowed;
  }

  override shedding(): void {
    this.closing++;
  }

  override wait(m: Parameters<ConnectionBudget['wait']>[0], shed: boolean): void {
    super.wait(m, shed);
    if (this.limit > 0 && this.full && !this.asking) {
      this.asking = true;
      this.link.ask(this.name, this.limit);
    }
  }

  override give(n = 1): void {
    this.closing = Math.max(0, this.closing - n);
    super.give(n);
    this.settle();
  }

  /** The supervisor's answer to `ask`: `n` more slots (0: none now, ask again when needed). */
  granted(n: number): void {
    this.asking = false;
    this.share += n;
    if (!this.full) this.wake();
  }

  /**
   * The supervisor wants `n` slots back. `force`: close connections above the smaller share as
   * they go idle; else give back only what is unused or idle with no client waiting here.
   */
  reclaim(n: number, force: boolean): void {
    let took = 0;
    if (force) took = Math.max(0, Math.min(n, this.share - this.owed));
    else {
      took = Math.max(0, Math.min(n, this.share - this.owed - this.used));
      for (const m of this.members) {
        if (took >= n || this.owed + took >= this.share) break;
        if (m.shedIdle()) { took++; this.closing++; }
      }
    }
    this.owed += took;
    if (took < n) this.link.release(this.name, 0, n - took);
    this.settle();
    // Members close idle connections above the share on their next pulse.
    if (this.over) for (const m of [...this.members]) m.budgetFreed();
  }

  /** What is owed and no longer used goes back now. */
  private settle(): void {
    const back = Math.min(this.owed, this.share - this.used);
    if (back <= 0) return;
    this.share -= back;
    this.owed -= back;
    this.link.release(this.name, back);
  }
}
