import type pg from 'pg';
import type { Clock, Logger, PluginClass, PoolOptions as KernelPoolOptions } from '@weir/kernel';
import type { ClientClass } from './connector.js';

/** A plugin class, or a plugin class with its config section (what `plugins.<configKey>` holds in YAML). */
export type PluginEntry = PluginClass | readonly [PluginClass, Record<string, unknown>];

/**
 * Options of a weir `Pool`: everything `pg.Pool` takes (passed on to each `pg.Client`) plus the
 * weir plugins to run in-process.
 */
export interface PoolConfig extends Omit<pg.PoolConfig, 'Client' | 'onConnect' | 'verify' | 'Promise'> {
  /**
   * Plugin classes, the same the proxy uses, each enabled with its config section:
   * `[DynamicPoolsPlugin, [IdleGcPlugin, { pool_idle_timeout: '5m' }]]`.
   */
  plugins?: readonly PluginEntry[];
  /** Client class to build (default `pg.Client`). */
  Client?: ClientClass;
  /** Runs on every new client before its first use (after the plugins' `create` handlers); a throw discards the client. */
  onConnect?: (client: pg.ClientBase) => void | Promise<void>;
  /** Runs on every new client after `onConnect`; calling `done(err)` discards the client (pg.Pool's `verify`). */
  verify?: (client: pg.PoolClient, done: (err?: Error) => void) => void;
  /** Time source of the pools and plugins (tests pass a `FakeClock`). */
  clock?: Clock;
  /** pino logger for the kernel and plugins (default: silent). */
  logger?: Logger;
}

/** The options as the pool holds them (`pool.options`): pg.Pool's defaults filled in. */
export interface ResolvedPoolConfig extends PoolConfig {
  max: number;
  maxUses: number;
  allowExitOnIdle: boolean;
  maxLifetimeSeconds: number;
  idleTimeoutMillis: number | null;
}

/** pg.Pool's defaults over the options given. */
export function resolvePoolConfig(config: PoolConfig): ResolvedPoolConfig {
  return {
    ...config,
    max: config.max ?? 10,
    maxUses: config.maxUses ?? Infinity,
    allowExitOnIdle: config.allowExitOnIdle ?? false,
    maxLifetimeSeconds: config.maxLifetimeSeconds ?? 0,
    idleTimeoutMillis: config.idleTimeoutMillis === undefined ? 10_000 : config.idleTimeoutMillis,
  };
}

/** Per-tenant pool: whom to log in as, plus any client setting that differs from the base pool's. */
export interface TenantConfig extends pg.ClientConfig {
  database: string;
  user: string;
  /** Pool size for this tenant (default: the base pool's `max`). */
  max?: number;
}

/** Pool options the kernel understands, from pg.Pool's option names. */
export function kernelPoolOptions(config: PoolConfig): KernelPoolOptions {
  const connectMs = config.connectionTimeoutMillis ?? 0;
  const idle = config.idleTimeoutMillis;
  return {
    max: config.max ?? 10,
    min: config.min ?? 0,
    acquireTimeoutMs: connectMs,
    connectTimeoutMs: connectMs,
    idleTimeoutMs: idle === undefined ? 10_000 : idle === null ? 0 : idle,
    maxLifetimeMs: (config.maxLifetimeSeconds ?? 0) * 1000,
  };
}

const WEIR_KEYS = ['plugins', 'Client', 'onConnect', 'verify', 'log', 'clock', 'logger', 'max', 'min', 'idleTimeoutMillis', 'maxUses', 'maxLifetimeSeconds', 'allowExitOnIdle'] as const;

/** The settings every pg.Client of the pool gets (pool and weir options removed). */
export function clientConfig(config: PoolConfig): pg.ClientConfig {
  const out: Record<string, unknown> = { ...config };
  for (const k of WEIR_KEYS) delete out[k];
  return out as pg.ClientConfig;
}

/** Plugin classes and the `plugins:` section they are enabled with. */
export function pluginSections(entries: readonly PluginEntry[]): { classes: PluginClass[]; sections: Record<string, { enabled: boolean } & Record<string, unknown>> } {
  const classes: PluginClass[] = [];
  const sections: Record<string, { enabled: boolean } & Record<string, unknown>> = {};
  for (const e of entries) {
    const [P, cfg] = Array.isArray(e) ? (e as readonly [PluginClass, Record<string, unknown>]) : [e as PluginClass, {}];
    classes.push(P);
    const key = P.plugin?.configKey;
    if (typeof key === 'string') sections[key] = { ...cfg, enabled: true };
  }
  return { classes, sections };
}
