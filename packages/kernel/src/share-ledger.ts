/** What the ledger tells a worker: slots granted, or slots it should give back. */
export type LedgerMessage =
  | { kind: 'grant'; worker: number; key: string; n: number }
  | { kind: 'reclaim'; worker: number; key: string; n: number; force: boolean };

interface Cap {
  limit: number;
  /** Slots each worker holds as the ledger counts them (≥ what the worker counts: grants go out after, releases come in after). */
  readonly shares: Map<number, number>;
  /** Slots asked back from each worker and not yet released or declined. */
  readonly owed: Map<number, number>;
  /** Workers whose clients wait for a slot, in asking order. */
  readonly asks: Set<number>;
}

const get = (m: Map<number, number>, w: number) => m.get(w) ?? 0;
const sum = (m: Map<number, number>) => { let s = 0; for (const v of m.values()) s += v; return s; };

/**
 * The supervisor's side of caps shared by workers (general.workers > 1): for each cap, the
 * share each worker holds. Invariant: the shares of a cap sum to at most its limit. A worker
 * that asks is given a free slot if there is one; else a worker holding more than a fair part
 * (limit ÷ workers holding or asking) is made to give one back as a connection goes idle
 * (`force`), and `tick` asks holders for slots they do not use (not forced). A dead worker's
 * shares are free at once.
 */
export class ShareLedger {
  private readonly caps = new Map<string, Cap>();

  constructor(private readonly send: (m: LedgerMessage) => void) {}

  ask(worker: number, key: string, limit: number): void {
    const cap = this.cap(key);
    cap.limit = limit;
    cap.asks.add(worker);
    this.serve(key, cap);
  }

  /** The cap is now `limit` (RELOAD): shares above it are taken back, from the largest first, as connections go idle. */
  setLimit(key: string, limit: number): void {
    const cap = this.caps.get(key);
    if (cap === undefined || cap.limit === limit) return;
    cap.limit = limit;
    let excess = sum(cap.shares) - sum(cap.owed) - limit;
    while (limit > 0 && excess > 0) {
      let victim = -1;
      let most = 0;
      for (const [v, held] of cap.shares) if (held - get(cap.owed, v) > most) { victim = v; most = held - get(cap.owed, v); }
      if (victim < 0) break;
      cap.owed.set(victim, get(cap.owed, victim) + 1);
      this.send({ kind: 'reclaim', worker: victim, key, n: 1, force: true });
      excess--;
    }
    this.serve(key, cap);
  }

  /** `worker` gave back `n` slots and declined `declined` of those asked back. */
  release(worker: number, key: string, n: number, declined = 0): void {
    const cap = this.caps.get(key);
    if (cap === undefined) return;
    cap.shares.set(worker, Math.max(0, get(cap.shares, worker) - n));
    cap.owed.set(worker, Math.max(0, get(cap.owed, worker) - n - declined));
    this.serve(key, cap);
  }

  dead(worker: number): void {
    for (const [key, cap] of this.caps) {
      cap.shares.delete(worker);
      cap.owed.delete(worker);
      cap.asks.delete(worker);
      this.serve(key, cap);
    }
  }

  /** Periodically while asks wait: ask holders for unused or idle slots. */
  tick(): void {
    for (const [key, cap] of this.caps) {
      if (cap.asks.size === 0 || sum(cap.owed) >= cap.asks.size) continue;
      for (const [w, held] of cap.shares) {
        if (cap.asks.has(w) || held - get(cap.owed, w) <= 0) continue;
        cap.owed.set(w, get(cap.owed, w) + 1);
        this.send({ kind: 'reclaim', worker: w, key, n: 1, force: false });
      }
    }
  }

  /** True while some worker waits for a slot of some cap. */
  get waiting(): boolean {
    for (const cap of this.caps.values()) if (cap.asks.size !== 0) return true;
    return false;
  }

  shares(key: string): ReadonlyMap<number, number> {
    return this.caps.get(key)?.shares ?? new Map();
  }

  limit(key: string): number {
    return this.caps.get(key)?.limit ?? 0;
  }

  keys(): string[] {
    return [...this.caps.keys()];
  }

  private cap(key: string): Cap {
    let cap = this.caps.get(key);
    if (cap === undefined) this.caps.set(key, (cap = { limit: 0, shares: new Map(), owed: new Map(), asks: new Set() }));
    return cap;
  }

  private serve(key: string, cap: Cap): void {
    for (const w of cap.asks) {
      if (sum(cap.shares) >= cap.limit) break;
      cap.asks.delete(w);
      cap.shares.set(w, get(cap.shares, w) + 1);
      this.send({ kind: 'grant', worker: w, key, n: 1 });
    }
    if (cap.asks.size === 0 || sum(cap.owed) >= cap.asks.size) return;
    // Fair part: the limit over the workers that hold or want slots.
    const wanting = new Set([...cap.asks, ...[...cap.shares].filter(([, n]) => n > 0).map(([w]) => w)]);
    const fair = Math.floor(cap.limit / wanting.size);
    for (const w of cap.asks) {
      if (get(cap.shares, w) >= fair || sum(cap.owed) >= cap.asks.size) continue;
      let victim = -1;
      let most = fair;
      for (const [v, held] of cap.shares) {
        const keeps = held - get(cap.owed, v);
        if (v !== w && keeps > most) { victim = v; most = keeps; }
      }
      if (victim < 0) continue;
      cap.owed.set(victim, get(cap.owed, victim) + 1);
      this.send({ kind: 'reclaim', worker: victim, key, n: 1, force: true });
    }
  }
}
