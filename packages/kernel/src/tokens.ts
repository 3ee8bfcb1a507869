import type { InjectionToken } from 'tsyringe';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { Clock } from './clock.js';
import type { Config } from './config/types.js';
import type { Hooks } from './hooks.js';
import type { Kernel } from './kernel.js';
import type { Logger } from './logger.js';
import type { PluginContext } from './plugin-context.js';
import type { Pool } from './pool.js';
import type { PoolRegistry } from './registry.js';
import type { PoolSpec } from './types.js';

/** A typed symbol token for tsyringe. `T` is what resolving it yields. */
export function createToken<T>(description: string): InjectionToken<T> {
  return Symbol(description) as InjectionToken<T>;
}

/** The running config; `current` is swapped on reload. */
export interface ConfigRef {
  readonly current: Config;
}

/** Builds a pool from a spec. Provided by the host (the proxy, @weir/pg). */
export interface PoolFactory {
  create(spec: PoolSpec): Pool;
}

export const TOKENS = {
  Hooks: createToken<Hooks>('weir.Hooks'),
  PoolRegistry: createToken<PoolRegistry>('weir.PoolRegistry'),
  Logger: createToken<Logger>('weir.Logger'),
  Clock: createToken<Clock>('weir.Clock'),
  Config: createToken<ConfigRef>('weir.Config'),
  PoolFactory: createToken<PoolFactory>('weir.PoolFactory'),
  PluginConfig: createToken<unknown>('weir.PluginConfig'),
  /** v2: what a plugin injects — its PluginContext. */
  PluginContext: createToken<PluginContext<any>>('weir.PluginContext'),
  /** @deprecated v1: inject TOKENS.PluginContext instead (kept for third-party plugins written against v1). */
  Kernel: createToken<Kernel>('weir.Kernel'),
  Metrics: createToken<MetricsRegistry>('weir.Metrics'),
};
