import type { ConnectionId, PoolInfo, PooledConnection } from './types.js';
import type { PoolLease } from './lease.js';

/** Connection phases. Every phase change happens in Pool; stats follow from the phase counts. */
export const Phase = {
  /** create hooks running */
  Creating: 0,
  Idle: 1,
  Active: 2,
  Closed: 3,
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** The kernel's record of one pooled connection. Plugins see it as PooledConnection. */
export class PoolConnection<C> implements PooledConnection<C> {
  destroyOnRelease = false;
  state: Map<symbol, unknown> | undefined = undefined;
  phase: Phase = Phase.Creating;
  lastUsedAt: number;
  lease: PoolLease<C> | null = null;
  /** Reported broken while leased or starting: closed with reason 'error' when it comes back. */
  broken = false;

  constructor(
    readonly id: ConnectionId,
    readonly connection: C,
    readonly pool: PoolInfo,
    readonly createdAt: number,
  ) {
    this.lastUsedAt = createdAt;
  }
}
