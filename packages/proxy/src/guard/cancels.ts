import crypto from 'node:crypto';
import type { Logger } from '@weir/kernel';
import { CancelGuard } from './cancel-guard.js';
import { LogDigest } from './log-digest.js';

/** What a cancel request can reach: a session's key and the server it should cancel on. */
export interface Cancellable {
  readonly pid: number;
  readonly secret: number;
  /** Send the cancel on to the session's server, if it has one. */
  forwardCancel(): void;
}

/**
 * Cancel keys handed to clients and the routing of cancel requests back to them. Both key fields
 * are random (31 + 32 bits; a process id is drawn again if in use), so a key cannot be guessed from
 * another; wrong keys are rate-limited per source address and logged in aggregate.
 */
export class CancelKeys {
  private readonly byPid = new Map<number, Cancellable>();
  private readonly guard: CancelGuard;
  private readonly unknown: LogDigest;
  private readonly blockedLog: LogDigest;

  constructor(logger: Logger, guard = new CancelGuard()) {
    this.guard = guard;
    this.unknown = new LogDigest(logger, 'info', 'cancel request with an unknown key ignored');
    this.blockedLog = new LogDigest(logger, 'warn', 'cancel requests from an address that sent too many wrong keys are ignored for a while');
  }

  /** A process id no live session holds (positive, never 0). */
  drawPid(): number {
    for (;;) {
      const pid = crypto.randomInt(1, 0x80000000);
      if (!this.byPid.has(pid)) return pid;
    }
  }

  add(s: Cancellable): void {
    this.byPid.set(s.pid, s);
  }

  delete(s: Cancellable): void {
    if (this.byPid.get(s.pid) === s) this.byPid.delete(s.pid);
  }

  /** A CancelRequest arrived from `address`. */
  route(pid: number, secret: number, address: string): void {
    if (this.guard.blocked(address)) {
      this.blockedLog.note({ client: address });
      return;
    }
    const s = this.byPid.get(pid);
    if (s === undefined || s.secret !== secret) {
      this.unknown.note({ client: address, key_pid: pid });
      if (this.guard.miss(address)) this.blockedLog.note({ client: address });
      return;
    }
    s.forwardCancel();
  }
}
