import 'reflect-metadata';

export * from './types.js';
export {
  ErrorCodes,
  ERROR_CATALOG,
  ERROR_FAMILIES,
  WeirError,
  ClientError,
  isWeirError,
  isClientError,
  clientErrorOf,
  messageOf,
  type ErrorCode,
} from './errors.js';
export { systemClock, FakeClock, flushMicrotasks, type Clock, type TimerHandle } from './clock.js';
export { createLogger, silentLogger, type Logger, type LoggerOptions, type LogFormat } from './logger.js';
export { prettyLine } from './log-pretty.js';
export { serializeError } from './log-error.js';
export { Pool, type PoolArgs, type ConnectionView } from './pool.js';
export { ConnectionBudget, type BudgetMember } from './budget.js';
export { Hooks, hookError, type HookOrder, type HandlerSpec } from './hooks.js';
export {
  HOOK_TABLE,
  type HookMap,
  type ResolverMap,
  type EventMap,
  type ReloadEvent,
  type ReloadCommit,
  type RunMode,
  type HookName,
  type ResolverName,
  type EventName,
  type AnyHookName,
} from './hook-table.js';
export { PoolRegistry, poolKeyId, type RegistryEntry, type NewRegistryEntry, type RetireOutcome, type RetireReason } from './registry.js';
export { PoolPlan, type PlannedPool } from './reload-plan.js';
export type { ReloadSource } from './reload-errors.js';
export * from './config/index.js';
export { TOKENS, createToken, type ConfigRef, type PoolFactory } from './tokens.js';
export type { PluginDescriptor, WeirPlugin, PluginClass } from './plugin-types.js';
export type { PluginContext } from './plugin-context.js';
export { definePlugin, type PluginDefinition, type DefinedPlugin, type PluginCleanup } from './define-plugin.js';
export { orderPlugins, indexPlugins } from './plugin-order.js';
export { validatePluginSections, pluginSectionProblems, enabledKeys, poolSectionKeys } from './plugin-config.js';
export { Kernel, type KernelOptions } from './kernel.js';
export { registerPoolMetrics } from './metrics.js';
export { registerCollected, histogramValues, type MetricValue } from './collected-metric.js';
export { inject, injectable } from 'tsyringe';
export type { InjectionToken, DependencyContainer } from 'tsyringe';
export { STATEMENT_CACHE, type StatementCacheService, type StatementNames, type StatementStats } from './statement-cache.js';
export { Reports, REPORTS, type Report, type ReportSource } from './reports.js';
export { KERNEL_VERSION, satisfiesRange } from './version.js';
