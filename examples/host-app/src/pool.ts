import { Pool, type PoolConfig } from '@weir/pg';
import { DynamicPoolsPlugin } from '@weir/plugin-dynamic-pools';
import { IdleGcPlugin } from '@weir/plugin-idle-gc';
import { PreparedStatementsPlugin } from '@weir/plugin-prepared-statements';
import { LeaseAuditPlugin } from 'weir-plugin-lease-audit';

export interface AppPoolOptions extends Omit<PoolConfig, 'plugins'> {
  /** A tenant pool unused this long is closed (idle GC); the next request opens it again. */
  tenantIdleTimeout?: string;
  /** How often idle tenant pools are looked for. */
  gcInterval?: string;
}

/**
 * The application's pool: a drop-in pg.Pool with weir plugins chosen in code.
 * - dynamic-pools: `pool.for(tenant)` makes a pool per (database, user) on first use;
 * - idle-gc: tenant pools nobody used for a while are closed;
 * - prepared-statements: named statements tracked per connection, bounded, forgotten on close;
 * - lease-audit (a third-party plugin, examples/custom-plugin): hold times, slow leases.
 */
export function createPool(options: AppPoolOptions): Pool {
  const { tenantIdleTimeout = '5m', gcInterval = '30s', ...pg } = options;
  return new Pool({
    max: 5,
    ...pg,
    plugins: [
      [DynamicPoolsPlugin, { max_pools: 100 }],
      [IdleGcPlugin, { interval: gcInterval, pool_idle_timeout: tenantIdleTimeout }],
      [PreparedStatementsPlugin, { max_per_connection: 100 }],
      [LeaseAuditPlugin, { slow_lease: '250ms' }],
    ],
  });
}
