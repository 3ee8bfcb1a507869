import { z } from 'zod';
import { definePlugin } from '@weir/kernel';

/** Its section: `plugins.weir-plugin-drop-audit` in the proxy's YAML, `[DropAuditPlugin, {…}]` in @weir/pg. */
export const configSchema = z.strictObject({
  /** Closes for these reasons are logged as warnings; every close is counted. */
  warn: z.array(z.string()).default(['error']),
  /** The report's name: `SHOW <report>` on the admin console, `pool.report('<report>')` in @weir/pg. */
  report: z.string().regex(/^[A-Za-z_]\w*$/, 'a report name is letters, digits and _').default('DROPS'),
});

/** One row of the report: closes of one pool's server connections for one reason. */
interface Row {
  readonly pool: string;
  readonly reason: string;
  count: number;
}

/**
 * Why do server connections close? Counts every close (the `drop` hook) by pool and reason,
 * shows them as a report (`SHOW DROPS`) and a metric (`weir_plugin_drops_total`), and logs a
 * warning for the reasons listed in `warn` (read at each close, so a RELOAD changes it).
 */
export const DropAuditPlugin = definePlugin({
  name: 'weir-plugin-drop-audit',
  configKey: 'drop_audit',
  configSchema,
  kernel: '^0.1.0',
  setup(ctx) {
    const rows = new Map<string, Row>();
    ctx.hooks.on('drop', (conn, reason) => {
      const key = `${conn.pool.name} ${reason}`;
      let row = rows.get(key);
      if (row === undefined) rows.set(key, (row = { pool: conn.pool.name, reason, count: 0 }));
      row.count++;
      if (ctx.config.warn.includes(reason)) {
        ctx.logger.warn({ pool: row.pool, connection: conn.id, reason }, `a server connection of ${row.pool} closed: ${reason}`);
      }
    });
    const all = () => [...rows.values()];
    ctx.report(ctx.config.report, () => ({ columns: ['pool', 'reason', 'count'], rows: all().map((r) => [r.pool, r.reason, r.count]) }));
    ctx.metric('weir_plugin_drops_total', 'Server connections closed, by pool and reason', 'counter',
      () => all().map((r) => ({ labels: { pool: r.pool, reason: r.reason }, value: r.count })));
  },
});

export default DropAuditPlugin;
