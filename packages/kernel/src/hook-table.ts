import type { Config, ConfigDiff } from './config/types.js';
import type { Pool } from './pool.js';
import type { RegistryEntry } from './registry.js';
import type { PoolPlan } from './reload-plan.js';
import type {
  DropReason,
  PoolInfo,
  PooledConnection,
  ResolvedUser,
  ResolvePoolRequest,
  ResolveUserRequest,
} from './types.js';

/**
 * Payload of the `reload` hook. A handler decides (throw to refuse: nothing changes), drafts
 * registry changes on `pools`, and returns a `ReloadCommit` that applies the rest of its change:
 * commits run only once every handler has agreed, right after the registry swap.
 */
export interface ReloadEvent {
  previous: Config;
  next: Config;
  diff: ConfigDiff;
  /** The registry's next state: `retire` and `add` here, never on the registry itself. */
  pools: PoolPlan;
}

/** What a `reload` handler returns to apply its change once the reload is decided. Synchronous; must not throw. */
export type ReloadCommit = () => void;

/** Lifecycle hooks (register with `hooks.on`). */
export interface HookMap {
  create: (conn: PooledConnection) => void | Promise<void>;
  checkout: (conn: PooledConnection) => void;
  release: (conn: PooledConnection) => void;
  drop: (conn: PooledConnection, reason: DropReason) => void;
  reload: (event: ReloadEvent) => void | ReloadCommit | Promise<void | ReloadCommit>;
}

/** Resolution points (register with `hooks.resolver`): the first handler that answers wins. */
export interface ResolverMap {
  resolveUser: (req: ResolveUserRequest) => Promise<ResolvedUser | undefined> | ResolvedUser | undefined;
  resolvePool: (req: ResolvePoolRequest) => Promise<Pool | undefined> | Pool | undefined;
}

/** Events for observers (register with `hooks.listen`). */
export interface EventMap {
  'pool:created': (entry: RegistryEntry) => void;
  'pool:retired': (entry: RegistryEntry, reason: string) => void;
  'connection:error': (info: PoolInfo, error: unknown) => void;
}

/**
 * How each hook runs:
 * - `series-async`: one after another, a handler may return a promise; the first throw stops the run.
 * - `series-sync`: one after another, synchronous; the first throw stops the run.
 * - `isolated`: every handler runs; a throw is logged and the others still run.
 * - `first`: one after another until a handler answers (not undefined).
 * - `event`: like isolated, for observers.
 */
export type RunMode = 'series-async' | 'series-sync' | 'isolated' | 'first' | 'event';

export type HookName = keyof HookMap;
export type ResolverName = keyof ResolverMap;
export type EventName = keyof EventMap;
export type AnyHookName = HookName | ResolverName | EventName;

/** The one table of every hook the kernel runs, and its run mode. */
export const HOOK_TABLE = {
  create: 'series-async',
  checkout: 'series-sync',
  release: 'series-sync',
  drop: 'isolated',
  reload: 'series-async',
  resolveUser: 'first',
  resolvePool: 'first',
  'pool:created': 'event',
  'pool:retired': 'event',
  'connection:error': 'event',
} as const satisfies Record<AnyHookName, RunMode>;
