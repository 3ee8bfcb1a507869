import { TestkitError } from './errors.js';

export type Stream = 'stdout' | 'stderr';

interface Waiter {
  re: RegExp;
  stream: Stream | undefined;
  resolve(line: string): void;
  reject(error: Error): void;
}

/** Lines of a child's output, with waiters for a line matching a pattern. */
export class LogBook {
  readonly lines: string[] = [];
  private readonly streams: Stream[] = [];
  private waiters = new Set<Waiter>();
  private closed: string | undefined;

  push(line: string, stream: Stream): void {
    this.lines.push(line);
    this.streams.push(stream);
    if (process.env.WEIR_TESTKIT_ECHO) process.stderr.write(`[weir ${stream}] ${line}\n`);
    for (const w of this.waiters) {
      if ((w.stream === undefined || w.stream === stream) && w.re.test(line)) {
        this.waiters.delete(w);
        w.resolve(line);
      }
    }
  }

  /** No more lines will come: pending and later unmatched waits reject with `reason`. */
  close(reason: string): void {
    this.closed = reason;
    for (const w of this.waiters) w.reject(this.stoppedError(w.re));
    this.waiters.clear();
  }

  private stoppedError(re: RegExp): Error {
    return new TestkitError('WEIR_E_TESTKIT_WEIR_STOPPED', `${this.closed} before a line matched ${re}`);
  }

  waitFor(re: RegExp, timeoutMs: number, fromIndex = 0, stream?: Stream): Promise<string> {
    for (let i = fromIndex; i < this.lines.length; i++) {
      if ((stream === undefined || this.streams[i] === stream) && re.test(this.lines[i]!)) {
        return Promise.resolve(this.lines[i]!);
      }
    }
    if (this.closed !== undefined) return Promise.reject(this.stoppedError(re));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const tail = this.lines.slice(-20).join('\n');
        reject(new TestkitError('WEIR_E_TESTKIT_LOG_TIMEOUT', `no line matched ${re} within ${timeoutMs} ms; last lines:\n${tail}`));
      }, timeoutMs);
      const waiter: Waiter = {
        re,
        stream,
        resolve: (line) => (clearTimeout(timer), resolve(line)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
      this.waiters.add(waiter);
    });
  }
}
