import { z } from 'zod';
import {
  ErrorCodes,
  TOKENS,
  WeirError,
  createToken,
  duration,
  inject,
  injectable,
  type DropReason,
  type PluginContext,
  type PluginDescriptor,
  type PooledConnection,
  type ReloadEvent,
  type Report,
  type WeirPlugin,
} from '@weir/kernel';

/** `plugins.lease_audit` (or `plugins.weir-plugin-lease-audit` when loaded by package name). */
export const configSchema = z.strictObject({
  /** A lease held longer than this is logged as a warning and counted as slow. 0 = never. */
  slow_lease: duration.default(0),
  /** Name of the report: `SHOW <report>` on the proxy's admin console, `pool.report(<report>)` in @weir/pg. */
  report: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a report name is letters, digits and _')
    .default('LEASES'),
  /** Log every checkout and release at debug level. */
  log_leases: z.boolean().default(false),
});

export type LeaseAuditConfig = z.output<typeof configSchema>;

/** What the audit knows about one pool. */
export interface PoolLeaseStats {
  /** "user@database". */
  readonly pool: string;
  readonly checkouts: number;
  readonly releases: number;
  /** Leases held right now. */
  readonly active: number;
  /** Age of the oldest lease held right now (0 when none). */
  readonly oldestActiveMs: number;
  /** Sum and maximum of the hold times of ended leases. */
  readonly heldMsTotal: number;
  readonly heldMsMax: number;
  /** Leases held longer than `slow_lease`. */
  readonly slow: number;
  /** Connections closed, by reason ('idle', 'error', 'retired', …). */
  readonly drops: Readonly<Record<string, number>>;
}

/** The service this plugin provides: plugins that depend on it inject `LEASE_AUDIT`, hosts call `kernel.service(LEASE_AUDIT)`. */
export interface LeaseAudit {
  /** One entry per pool seen, in first-seen order. */
  stats(): PoolLeaseStats[];
  /** The entry of one pool ("user@database"). */
  pool(name: string): PoolLeaseStats | undefined;
  /** Forget everything counted so far. */
  reset(): void;
}

export const LEASE_AUDIT = createToken<LeaseAudit>('weir-plugin-lease-audit.LeaseAudit');

/** Per-connection state key: when the current lease began. */
const LEASED_AT = Symbol('lease-audit.leasedAt');

class PoolEntry {
  checkouts = 0;
  releases = 0;
  heldMsTotal = 0;
  heldMsMax = 0;
  slow = 0;
  readonly drops: Record<string, number> = {};
  readonly active = new Set<PooledConnection>();
  constructor(readonly pool: string) {}
}

/**
 * Audits connection leases in any weir host (the proxy, or @weir/pg in an application):
 * checkouts, hold times, slow leases and closed connections by reason, per pool. Publishes a
 * report (`SHOW LEASES` on the admin console) and the `LEASE_AUDIT` service.
 */
@injectable()
export class LeaseAuditPlugin implements WeirPlugin, LeaseAudit {
  static readonly plugin = {
    name: 'weir-plugin-lease-audit',
    configKey: 'lease_audit',
    configSchema,
    kernel: '^0.1.0',
  } satisfies PluginDescriptor<typeof configSchema>;

  private readonly pools = new Map<string, PoolEntry>();

  /** Everything the plugin gets from its host: its section, hooks, services, reports, logger, clock. */
  constructor(@inject(TOKENS.PluginContext) private readonly ctx: PluginContext<LeaseAuditConfig>) {}

  private get config(): LeaseAuditConfig {
    return this.ctx.config;
  }

  setup(): void {
    const { hooks } = this.ctx;
    hooks.on('checkout', (conn) => this.checkout(conn));
    hooks.on('release', (conn) => this.release(conn));
    hooks.on('drop', (conn, reason) => this.drop(conn, reason));
    hooks.on('reload', (event) => this.reload(event));
    this.ctx.provide(LEASE_AUDIT, this);
    // A report in hosts that show them (the proxy, @weir/pg); a no-op elsewhere.
    this.ctx.report(this.config.report, () => this.report());
  }

  /** Handlers, the service and the report are removed by the kernel. */
  dispose(): void {
    this.pools.clear();
  }

  stats(): PoolLeaseStats[] {
    return [...this.pools.values()].map((e) => this.view(e));
  }

  pool(name: string): PoolLeaseStats | undefined {
    const e = this.pools.get(name);
    return e === undefined ? undefined : this.view(e);
  }

  reset(): void {
    this.pools.clear();
  }

  /** The report's table, one row per pool. */
  report(): Report {
    return {
      columns: ['pool', 'checkouts', 'active', 'oldest_active_ms', 'avg_held_ms', 'max_held_ms', 'slow', 'drops'],
      rows: this.stats().map((s) => [
        s.pool,
        s.checkouts,
        s.active,
        s.oldestActiveMs,
        s.releases === 0 ? 0 : Math.round(s.heldMsTotal / s.releases),
        s.heldMsMax,
        s.slow,
        Object.entries(s.drops)
          .map(([reason, n]) => `${reason}=${n}`)
          .join(','),
      ]),
    };
  }

  /**
   * Its verdict on a new section: the report keeps the name it was published under until the next
   * start, so a reload that renames it is refused (nothing changes; the error names the key and line).
   * Everything else (slow_lease, log_leases) follows ctx.config once the reload is applied.
   */
  private reload(event: ReloadEvent): void {
    const next = this.ctx.sectionOf(event.next);
    if (next.report !== this.config.report) {
      throw new WeirError(ErrorCodes.RELOAD_REJECTED, `report cannot be renamed on reload (${this.config.report} → ${next.report}): restart weir`, { field: 'report' });
    }
  }

  // ---------------------------------------------------------------- hooks (sync, hot path)

  private entry(conn: PooledConnection): PoolEntry {
    const name = conn.pool.name;
    let e = this.pools.get(name);
    if (e === undefined) {
      e = new PoolEntry(name);
      this.pools.set(name, e);
    }
    return e;
  }

  private checkout(conn: PooledConnection): void {
    const e = this.entry(conn);
    e.checkouts++;
    e.active.add(conn);
    (conn.state ??= new Map()).set(LEASED_AT, this.ctx.clock.now());
    if (this.config.log_leases) this.ctx.logger.debug({ pool: e.pool, connection: conn.id }, 'lease begins');
  }

  private release(conn: PooledConnection): void {
    const e = this.entry(conn);
    const since = conn.state?.get(LEASED_AT) as number | undefined;
    conn.state?.delete(LEASED_AT);
    e.active.delete(conn);
    if (since === undefined) return;
    const held = this.ctx.clock.now() - since;
    e.releases++;
    e.heldMsTotal += held;
    if (held > e.heldMsMax) e.heldMsMax = held;
    const slow = this.config.slow_lease;
    if (slow > 0 && held > slow) {
      e.slow++;
      this.ctx.logger.warn({ pool: e.pool, connection: conn.id, heldMs: held, slowLeaseMs: slow }, `lease on ${e.pool} held ${held}ms (slow_lease ${slow}ms)`);
    } else if (this.config.log_leases) {
      this.ctx.logger.debug({ pool: e.pool, connection: conn.id, heldMs: held }, 'lease ends');
    }
  }

  private drop(conn: PooledConnection, reason: DropReason): void {
    const e = this.entry(conn);
    e.active.delete(conn);
    e.drops[reason] = (e.drops[reason] ?? 0) + 1;
  }

  private view(e: PoolEntry): PoolLeaseStats {
    const now = this.ctx.clock.now();
    let oldest = 0;
    for (const conn of e.active) {
      const since = conn.state?.get(LEASED_AT) as number | undefined;
      if (since !== undefined && now - since > oldest) oldest = now - since;
    }
    return {
      pool: e.pool,
      checkouts: e.checkouts,
      releases: e.releases,
      active: e.active.size,
      oldestActiveMs: oldest,
      heldMsTotal: e.heldMsTotal,
      heldMsMax: e.heldMsMax,
      slow: e.slow,
      drops: { ...e.drops },
    };
  }
}

export default LeaseAuditPlugin;
