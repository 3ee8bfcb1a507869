import type { InjectionToken } from 'tsyringe';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { Clock } from './clock.js';
import type { Config } from './config/types.js';
import type { MetricValue } from './collected-metric.js';
import type { Hooks } from './hooks.js';
import type { Logger } from './logger.js';
import type { PoolRegistry } from './registry.js';
import type { ReportSource } from './reports.js';
import type { ConfigRef, PoolFactory } from './tokens.js';

/**
 * What a plugin receives (inject `TOKENS.PluginContext`): everything scoped to it. What it
 * registers through the context — handlers, services, reports, metrics — is removed when it is
 * disposed, in reverse order.
 */
export interface PluginContext<C = unknown> {
  /** The plugin's descriptor name (how errors and logs name it). */
  readonly name: string;
  /** Its validated section of the running config (defaults applied); the new one once a reload is applied. */
  readonly config: C;
  /**
   * Its section of another config, validated by the kernel: in a `reload` handler,
   * `ctx.sectionOf(event.next)` — validated once, before any handler runs; when that config
   * switches the plugin off, its running section (it runs on with it until the next start).
   */
  sectionOf(config: Config): C;
  /** Owner-scoped hooks: handlers named after this plugin in errors, removed at dispose. */
  readonly hooks: Hooks;
  /**
   * Offer a service under an exported token. Plugins that list this one in `dependsOn` inject it
   * (`@inject(TOKEN)`) or call `ctx.use(TOKEN)`; hosts call `kernel.service(TOKEN)`. A token the kernel
   * or another plugin already provides is WEIR_E_SERVICE_DUPLICATE. Removed on dispose.
   */
  provide<T>(token: InjectionToken<T>, value: T): void;
  /** A service of a plugin in `dependsOn`, or one the host offers (e.g. the proxy's MESSAGE_HOOKS); undefined when none. */
  use<T>(token: InjectionToken<T>): T | undefined;
  /** Publish a report (`SHOW <NAME>` in the proxy, `pool.report(name)` in @weir/pg); a no-op in hosts without reports. */
  report(name: string, source: ReportSource): void;
  /** Add a metric computed at scrape time (see registerCollected). */
  metric(name: string, help: string, type: 'counter' | 'gauge' | 'histogram', values: () => MetricValue[]): void;
  /** The kernel's metrics registry, for prom-client metrics of your own (unregister them in dispose). */
  readonly metrics: MetricsRegistry;
  /** A child logger tagged with the plugin. */
  readonly logger: Logger;
  /** The kernel's clock: use it, not the global timers, so tests can use FakeClock. */
  readonly clock: Clock;
  /** Pools by (database, user). */
  readonly registry: PoolRegistry;
  /** Builds a pool the host's way. */
  readonly poolFactory: PoolFactory;
  /** The whole running config (`.current`), swapped on reload. */
  readonly runningConfig: ConfigRef;
}
