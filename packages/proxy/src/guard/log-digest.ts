import type { Logger } from '@weir/kernel';

type Level = 'info' | 'warn';

/**
 * One log line per period for an event a client can cause at will (a wrong cancel key, a
 * half-open login evicted): the first occurrence is logged at once with its fields; the rest
 * of the period is counted and summed up in one line when the period ends. An attacker cannot
 * turn connections into log volume.
 */
export class LogDigest {
  private suppressed = 0;
  private windowEnd = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly level: Level,
    private readonly message: string,
    private readonly periodMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  note(fields: Record<string, unknown>): void {
    const t = this.now();
    if (t >= this.windowEnd) {
      this.windowEnd = t + this.periodMs;
      this.logger[this.level](fields, this.message);
      return;
    }
    this.suppressed++;
    if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.windowEnd - t);
      this.timer.unref();
    }
  }

  /** Log the count of what the current period held back, if anything. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.suppressed === 0) return;
    const n = this.suppressed;
    this.suppressed = 0;
    this.logger[this.level]({ repeated: n, period_ms: this.periodMs }, `${this.message} (${n} more in the last ${this.periodMs / 1000} s)`);
  }
}
