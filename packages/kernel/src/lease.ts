import type { PoolConnection } from './connection.js';
import type { ConnectionId, DropReason, Lease } from './types.js';

/** Whoever hands out leases and takes them back (the Pool). */
export interface LeaseOwner<C> {
  endLease(lease: PoolLease<C>, destroy: boolean, reason: DropReason): void;
}

/** One checkout. The first release()/destroy() ends it; later calls are no-ops. */
export class PoolLease<C> implements Lease<C> {
  /** True once ended (by the holder, or by the pool closing the connection). */
  done = false;
  readonly id: ConnectionId;
  readonly connection: C;

  constructor(
    readonly pooled: PoolConnection<C>,
    private readonly owner: LeaseOwner<C>,
  ) {
    this.id = pooled.id;
    this.connection = pooled.connection;
  }

  release(): void {
    if (this.done) return;
    this.done = true;
    this.owner.endLease(this, false, 'released');
  }

  destroy(reason: DropReason = 'released-bad'): void {
    if (this.done) return;
    this.done = true;
    this.owner.endLease(this, true, reason);
  }
}
