/**
 * Rate limit for cancel requests with a wrong key, per source address: `limit` misses within
 * `windowMs` block that address's cancel requests (right key or not) for `blockMs`. With 63
 * random key bits, a guesser gets `limit` tries a minute instead of unlimited ones.
 */
export interface CancelGuardOptions {
  limit: number;
  windowMs: number;
  blockMs: number;
  /** Addresses tracked at most; the oldest entry is forgotten past it (memory stays bounded). */
  maxAddresses: number;
}

export const CANCEL_GUARD_DEFAULTS: CancelGuardOptions = { limit: 10, windowMs: 60_000, blockMs: 60_000, maxAddresses: 10_000 };

interface Entry {
  windowStart: number;
  misses: number;
  blockedUntil: number;
}

export class CancelGuard {
  private readonly byAddress = new Map<string, Entry>();

  constructor(private readonly opts: CancelGuardOptions = CANCEL_GUARD_DEFAULTS, private readonly now: () => number = Date.now) {}

  /** Is `address` blocked now? */
  blocked(address: string): boolean {
    const e = this.byAddress.get(address);
    return e !== undefined && e.blockedUntil > this.now();
  }

  /** A cancel from `address` named no client; returns true when this miss blocks the address. */
  miss(address: string): boolean {
    const t = this.now();
    let e = this.byAddress.get(address);
    if (e === undefined || (t - e.windowStart >= this.opts.windowMs && e.blockedUntil <= t)) {
      if (e !== undefined) this.byAddress.delete(address);
      else if (this.byAddress.size >= this.opts.maxAddresses) this.byAddress.delete(this.byAddress.keys().next().value!);
      e = { windowStart: t, misses: 0, blockedUntil: 0 };
      this.byAddress.set(address, e);
    }
    e.misses++;
    if (e.misses >= this.opts.limit && e.blockedUntil <= t) {
      e.blockedUntil = t + this.opts.blockMs;
      e.windowStart = e.blockedUntil; // the count starts again once the block ends
      e.misses = 0;
      return true;
    }
    return false;
  }
}
