import { z } from 'zod';
import {
  TOKENS, duration, inject, messageOf,
  type Clock, type Logger, type PluginContext, type PluginDescriptor, type PoolKey, type PoolRegistry, type ReloadCommit, type ReloadEvent,
  type TimerHandle, type WeirPlugin,
} from '@weir/kernel';
import { DYNAMIC_POOL_KEYS, type DynamicPoolKeys } from '@weir/plugin-dynamic-pools';

export const idleGcConfigSchema = z.object({
  /** How often dynamic pools are looked at. */
  interval: duration.prefault('30s').refine((ms) => ms > 0, 'must be more than 0').describe('How often dynamic pools are looked at.'),
  /** A dynamic pool unused for this long (no lease, no waiter) is removed. */
  pool_idle_timeout: duration.prefault('5m').describe('A dynamic pool unused this long (no lease, no waiter) is removed.'),
}).strict();

export type IdleGcConfig = z.infer<typeof idleGcConfigSchema>;

/**
 * Every `interval`, retires each dynamic pool with no leased connection, no waiter and no
 * connection being made, whose last acquire or release is older than `pool_idle_timeout`.
 * Retiring closes its idle server connections (the `drop` hook fires); the next login for
 * that user makes the pool again through `resolvePool`.
 */
export class IdleGcPlugin implements WeirPlugin {
  static readonly plugin: PluginDescriptor = {
    name: '@weir/plugin-idle-gc',
    configKey: 'idle_gc',
    configSchema: idleGcConfigSchema,
    dependsOn: ['dynamic_pools'],
    kernel: '^0.1.0',
  };

  private options: IdleGcConfig;
  private timer: TimerHandle | null = null;
  private stopped = false;
  /** Dynamic pools retired so far (weir_idle_gc_removed_total). */
  removedTotal = 0;
  private readonly registry: PoolRegistry;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(
    @inject(TOKENS.PluginContext) private readonly ctx: PluginContext<IdleGcConfig>,
    @inject(DYNAMIC_POOL_KEYS) private readonly dynamic: DynamicPoolKeys,
  ) {
    this.options = ctx.config;
    this.registry = ctx.registry;
    this.clock = ctx.clock;
    this.logger = ctx.logger;
  }

  setup(): void {
    this.ctx.hooks.on('reload', (event) => this.reload(event));
    this.ctx.metric('weir_idle_gc_removed_total', 'Idle dynamic pools removed', 'counter', () => [{ labels: {}, value: this.removedTotal }]);
    this.arm();
  }

  dispose(): void {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** One pass: retire every idle dynamic pool now. Returns the keys removed. */
  sweep(): PoolKey[] {
    const now = this.clock.now();
    const limit = this.options.pool_idle_timeout;
    const removed: PoolKey[] = [];
    for (const key of this.dynamic.keys()) {
      const entry = this.registry.get(key.database, key.user);
      if (entry === undefined || entry.kind !== 'dynamic') continue;
      const s = entry.pool.stats();
      if (s.retired || s.active > 0 || s.waiting > 0 || s.pending > 0) continue;
      const idleFor = now - s.lastActivityAt;
      if (idleFor < limit) continue;
      // Same tick as the check: no acquire can slip in between; the entry leaves the map at once.
      this.registry.retire(key.database, key.user, 'idle').catch((err: unknown) => {
        this.logger.error({ pool: entry.pool.info.name, error: messageOf(err) }, 'retiring an idle dynamic pool failed');
      });
      removed.push(key);
      this.removedTotal++;
      this.logger.info({ pool: entry.pool.info.name, idle_ms: idleFor }, 'idle dynamic pool removed');
    }
    return removed;
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => this.tick(), this.options.interval);
  }

  private tick(): void {
    this.timer = null;
    try {
      this.sweep();
    } catch (err) {
      this.logger.error({ error: messageOf(err) }, 'idle pool sweep failed');
    }
    this.arm();
  }

  /** Decide nothing (its section is validated by the kernel); the commit re-arms the timer on a new interval. */
  private reload(event: ReloadEvent): ReloadCommit {
    const next = this.ctx.sectionOf(event.next);
    return () => {
      const intervalChanged = next.interval !== this.options.interval;
      this.options = next;
      if (intervalChanged && this.timer !== null) {
        this.clock.clearTimeout(this.timer);
        this.arm();
      }
    };
  }
}
