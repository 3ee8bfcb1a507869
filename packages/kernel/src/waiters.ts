/**
 * One acquire() waiting for a connection. `T` only ever flows out (to resolve), so the
 * callbacks are typed loosely to keep Pool<C> assignable to Pool<unknown>.
 */
export class Waiter<T> {
  /** True while in the queue. */
  queued = true;
  /** Clock time at which it times out (Infinity: never). */
  deadline = Infinity;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | null = null;

  constructor(
    readonly enqueuedAt: number,
    private readonly settle: (value: any) => void,
    readonly reject: (err: unknown) => void,
  ) {}

  resolve(value: T): void {
    this.settle(value);
  }
}

/**
 * FIFO of waiters. Removal from the middle (timeout, abort) only marks the waiter;
 * dead entries are skipped and the array is compacted now and then.
 */
export class WaitQueue<T> {
  private items: (Waiter<T> | undefined)[] = [];
  private head = 0;
  /** Waiters still queued. */
  size = 0;

  push(w: Waiter<T>): void {
    this.items.push(w);
    this.size++;
  }

  /** Take the longest-waiting live waiter. */
  shift(): Waiter<T> | undefined {
    const w = this.peek();
    if (w === undefined) return undefined;
    this.items[this.head++] = undefined;
    w.queued = false;
    this.size--;
    this.compact();
    return w;
  }

  /** The longest-waiting live waiter, left in place. */
  peek(): Waiter<T> | undefined {
    const items = this.items;
    while (this.head < items.length) {
      const w = items[this.head];
      if (w !== undefined && w.queued) return w;
      items[this.head++] = undefined;
    }
    return undefined;
  }

  /** Take a waiter out wherever it is. */
  remove(w: Waiter<T>): void {
    if (!w.queued) return;
    w.queued = false;
    this.size--;
    this.peek();
    this.compact();
  }

  /** Take every live waiter out, oldest first. */
  drain(): Waiter<T>[] {
    const out: Waiter<T>[] = [];
    for (let w = this.shift(); w !== undefined; w = this.shift()) out.push(w);
    return out;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
