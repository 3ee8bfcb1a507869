/** A promise a waiter can hold until RESUME. */
class Gate {
  readonly promise: Promise<void>;
  resolve!: () => void;
  constructor() {
    this.promise = new Promise<void>((r) => { this.resolve = r; });
  }
}

const ALL = '*';

/**
 * PAUSE / RESUME / DISABLE / ENABLE, per database or for all (PgBouncer's admin semantics):
 * a paused database's clients wait for a server until RESUME; a disabled one refuses new logins.
 */
export class DatabaseControl {
  private readonly paused = new Map<string, Gate>();
  private readonly disabled = new Set<string>();

  /** Null when clients of `database` may get servers now, else resolves at RESUME. */
  whenRunning(database: string): Promise<void> | null {
    if (this.paused.size === 0) return null;
    const all = this.paused.get(ALL);
    const one = this.paused.get(database);
    if (all && one) return Promise.all([all.promise, one.promise]).then(() => undefined);
    return (all ?? one)?.promise ?? null;
  }

  isPaused(database: string): boolean {
    return this.paused.has(ALL) || this.paused.has(database);
  }

  pause(database = ALL): void {
    if (!this.paused.has(database)) this.paused.set(database, new Gate());
  }

  /** RESUME without a name lifts every pause; with one, that database's. False if it was not paused. */
  resume(database = ALL): boolean {
    if (database === ALL) {
      const had = this.paused.size !== 0;
      for (const g of this.paused.values()) g.resolve();
      this.paused.clear();
      return had;
    }
    const g = this.paused.get(database);
    if (g === undefined) return false;
    g.resolve();
    this.paused.delete(database);
    return true;
  }

  disable(database: string): void {
    this.disabled.add(database);
  }

  enable(database: string): void {
    this.disabled.delete(database);
  }

  isDisabled(database: string): boolean {
    return this.disabled.has(database);
  }
}
