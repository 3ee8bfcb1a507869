/** Time as the kernel sees it. Injected everywhere so tests can use FakeClock. */

export type TimerHandle = { unref?(): unknown } | number | object;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(h: TimerHandle): void;
}

let turnNow = 0;
let turnValid = false;
const endTurn = (): void => {
  turnValid = false;
};

/**
 * Date.now(), read at most once per event-loop turn: reading the system clock costs 100+ ns on
 * some hosts, and the pool asks for the time on every checkout and release. Within one turn the
 * value stays put (a turn lasts micro- to milliseconds); the next turn reads it afresh.
 */
function nowThisTurn(): number {
  if (turnValid) return turnNow;
  turnNow = Date.now();
  turnValid = true;
  setImmediate(endTurn);
  return turnNow;
}

/**
 * The real clock: `now()` is Date.now() read once per event-loop turn (use performance.now()
 * to time code); global timers, unref'd so they never keep the process alive.
 */
export const systemClock: Clock = {
  now: nowThisTurn,
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(h) {
    clearTimeout(h as NodeJS.Timeout);
  },
};

class FakeTimer {
  constructor(
    readonly at: number,
    readonly seq: number,
    readonly fn: () => void,
  ) {}
}

/** A clock that moves only when told. Timers run in due order (ties: scheduling order). */
export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: FakeTimer[] = []; // sorted by (at, seq)

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = new FakeTimer(this.time + Math.max(0, ms), this.seq++, fn);
    let lo = 0;
    let hi = this.timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.timers[mid]!;
      if (m.at < t.at || (m.at === t.at && m.seq < t.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.timers.splice(lo, 0, t);
    return t;
  }

  clearTimeout(h: TimerHandle): void {
    const i = this.timers.indexOf(h as FakeTimer);
    if (i >= 0) this.timers.splice(i, 1);
  }

  /** Move time forward by `ms`, running every timer that falls due, in order; time is set to each timer's due time as it runs. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const t = this.timers[0];
      if (t === undefined || t.at > end) break;
      this.timers.shift();
      if (t.at > this.time) this.time = t.at;
      t.fn();
    }
    this.time = end;
  }

  /** Like advance, but lets promise callbacks settle after each timer. */
  async advanceAsync(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await flushMicrotasks();
      const t = this.timers[0];
      if (t === undefined || t.at > end) break;
      this.timers.shift();
      if (t.at > this.time) this.time = t.at;
      t.fn();
    }
    this.time = end;
    await flushMicrotasks();
  }

  /** Number of scheduled timers. */
  pending(): number {
    return this.timers.length;
  }

  /** Due time of the next timer, or undefined. */
  nextAt(): number | undefined {
    return this.timers[0]?.at;
  }
}

/** Resolve after pending promise callbacks (and their follow-ups) have run. */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
