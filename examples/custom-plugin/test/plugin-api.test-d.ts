/**
 * Type-level tests pinning what a plugin author sees of @weir/kernel: the descriptor, the plugin
 * class contract, the DI tokens and what they resolve to, the hook table's handler signatures and
 * run modes. If one of these fails, published plugins may break: that is a major kernel change.
 */
import { expectTypeOf, test } from 'vitest';
import type { ZodType } from 'zod';
import {
  HOOK_TABLE,
  REPORTS,
  TOKENS,
  createToken,
  type Clock,
  type ConfigRef,
  type ConnectionId,
  type DropReason,
  type EventMap,
  type HookMap,
  type Hooks,
  type InjectionToken,
  type Kernel,
  type Logger,
  type PluginClass,
  type PluginContext,
  type HookOrder,
  ClientError,
  type PluginDescriptor,
  type Pool,
  type PoolFactory,
  type PoolInfo,
  type PoolRegistry,
  type PoolSpec,
  type PooledConnection,
  type RegistryEntry,
  type ReloadEvent,
  type ReloadCommit,
  type PoolPlan,
  type Report,
  type Reports,
  type ResolvePoolRequest,
  type ResolveUserRequest,
  type ResolvedUser,
  type ResolverMap,
  type WeirPlugin,
} from '@weir/kernel';
import { LEASE_AUDIT, LeaseAuditPlugin, configSchema, type LeaseAudit, type LeaseAuditConfig } from '../src/index.js';

declare const kernel: Kernel;
declare const hooks: Hooks;

test('the descriptor', () => {
  expectTypeOf<PluginDescriptor['name']>().toEqualTypeOf<string>();
  expectTypeOf<PluginDescriptor['configKey']>().toEqualTypeOf<string>();
  expectTypeOf<PluginDescriptor['configSchema']>().toEqualTypeOf<ZodType>();
  expectTypeOf<PluginDescriptor<typeof configSchema>['configSchema']>().toEqualTypeOf<typeof configSchema>();
  expectTypeOf<PluginDescriptor['dependsOn']>().toEqualTypeOf<string[] | undefined>();
  expectTypeOf<PluginDescriptor['kernel']>().toEqualTypeOf<string | undefined>();
  expectTypeOf<PluginDescriptor['poolSectionKey']>().toEqualTypeOf<string | undefined>();
  expectTypeOf<PluginDescriptor['poolSectionSchema']>().toEqualTypeOf<ZodType | undefined>();
  // the smallest valid descriptor
  expectTypeOf<{ name: string; configKey: string; configSchema: ZodType }>().toExtend<PluginDescriptor>();
  // @ts-expect-error configKey is required
  void ({ name: 'x', configSchema: configSchema } satisfies PluginDescriptor);
});

test('the plugin class', () => {
  expectTypeOf<WeirPlugin['setup']>().toEqualTypeOf<() => void | Promise<void>>();
  expectTypeOf<WeirPlugin['dispose']>().toEqualTypeOf<(() => void | Promise<void>) | undefined>();
  expectTypeOf(LeaseAuditPlugin).toExtend<PluginClass>();
  expectTypeOf(LeaseAuditPlugin.plugin.kernel).toEqualTypeOf<string>();
  // a class without the static descriptor is no plugin
  class NotAPlugin {
    setup(): void {}
  }
  expectTypeOf(NotAPlugin).not.toExtend<PluginClass>();
});

test('config', () => {
  expectTypeOf<LeaseAuditConfig>().toEqualTypeOf<{ slow_lease: number; report: string; log_leases: boolean }>();
});

test('DI tokens and what they resolve to', () => {
  expectTypeOf(TOKENS.Hooks).toEqualTypeOf<InjectionToken<Hooks>>();
  expectTypeOf(TOKENS.PoolRegistry).toEqualTypeOf<InjectionToken<PoolRegistry>>();
  expectTypeOf(TOKENS.Logger).toEqualTypeOf<InjectionToken<Logger>>();
  expectTypeOf(TOKENS.Clock).toEqualTypeOf<InjectionToken<Clock>>();
  expectTypeOf(TOKENS.Config).toEqualTypeOf<InjectionToken<ConfigRef>>();
  expectTypeOf(TOKENS.PoolFactory).toEqualTypeOf<InjectionToken<PoolFactory>>();
  expectTypeOf(TOKENS.PluginConfig).toEqualTypeOf<InjectionToken<unknown>>();
  expectTypeOf(TOKENS.Kernel).toEqualTypeOf<InjectionToken<Kernel>>();
  expectTypeOf(REPORTS).toEqualTypeOf<InjectionToken<Reports>>();
  expectTypeOf(createToken<LeaseAudit>('x')).toEqualTypeOf<InjectionToken<LeaseAudit>>();
  expectTypeOf(LEASE_AUDIT).toEqualTypeOf<InjectionToken<LeaseAudit>>();
  expectTypeOf(kernel.resolve(LEASE_AUDIT)).toEqualTypeOf<LeaseAudit>();
  expectTypeOf(kernel.resolve(TOKENS.Hooks)).toEqualTypeOf<Hooks>();
  expectTypeOf<PoolFactory['create']>().toEqualTypeOf<(spec: PoolSpec) => Pool>();
  expectTypeOf<Reports['register']>().parameters.toEqualTypeOf<[name: string, source: () => Report, owner?: string]>();
});

test('the hook table: handler signatures', () => {
  expectTypeOf<HookMap['create']>().toEqualTypeOf<(conn: PooledConnection) => void | Promise<void>>();
  expectTypeOf<HookMap['checkout']>().toEqualTypeOf<(conn: PooledConnection) => void>();
  expectTypeOf<HookMap['release']>().toEqualTypeOf<(conn: PooledConnection) => void>();
  expectTypeOf<HookMap['drop']>().toEqualTypeOf<(conn: PooledConnection, reason: DropReason) => void>();
  expectTypeOf<HookMap['reload']>().toEqualTypeOf<(event: ReloadEvent) => void | ReloadCommit | Promise<void | ReloadCommit>>();
  expectTypeOf<ReloadCommit>().toEqualTypeOf<() => void>();
  expectTypeOf<ReloadEvent['pools']>().toEqualTypeOf<PoolPlan>();
  expectTypeOf<ResolverMap['resolveUser']>().parameters.toEqualTypeOf<[req: ResolveUserRequest]>();
  expectTypeOf<ReturnType<ResolverMap['resolveUser']>>().toEqualTypeOf<Promise<ResolvedUser | undefined> | ResolvedUser | undefined>();
  expectTypeOf<ResolverMap['resolvePool']>().parameters.toEqualTypeOf<[req: ResolvePoolRequest]>();
  expectTypeOf<ReturnType<ResolverMap['resolvePool']>>().toEqualTypeOf<Promise<Pool | undefined> | Pool | undefined>();
  expectTypeOf<EventMap['pool:created']>().toEqualTypeOf<(entry: RegistryEntry) => void>();
  expectTypeOf<EventMap['pool:retired']>().toEqualTypeOf<(entry: RegistryEntry, reason: string) => void>();
  expectTypeOf<EventMap['connection:error']>().toEqualTypeOf<(info: PoolInfo, error: unknown) => void>();
  expectTypeOf<keyof HookMap>().toEqualTypeOf<'create' | 'checkout' | 'release' | 'drop' | 'reload'>();
  expectTypeOf<keyof ResolverMap>().toEqualTypeOf<'resolveUser' | 'resolvePool'>();
  expectTypeOf<keyof EventMap>().toEqualTypeOf<'pool:created' | 'pool:retired' | 'connection:error'>();

  // registering: a typed payload per hook, an unregister function back
  expectTypeOf(hooks.on('drop', (conn, reason) => void [conn.id, reason])).toEqualTypeOf<() => void>();
  hooks.on('checkout', (conn) => {
    expectTypeOf(conn.id).toEqualTypeOf<ConnectionId>();
    expectTypeOf(conn.pool.name).toEqualTypeOf<string>();
    expectTypeOf(conn.state).toEqualTypeOf<Map<symbol, unknown> | undefined>();
    expectTypeOf(conn.destroyOnRelease).toEqualTypeOf<boolean>();
    expectTypeOf(conn.connection).toEqualTypeOf<unknown>(); // host-specific: pg.Client in @weir/pg, the proxy's server connection
  });
  hooks.resolver('resolvePool', (req) => {
    expectTypeOf(req.key).toEqualTypeOf<{ readonly database: string; readonly user: string }>();
    return undefined;
  });
  hooks.listen('pool:retired', (entry, reason) => void [entry.kind, reason]);
  // @ts-expect-error no such hook
  hooks.on('connect', () => undefined);
  // @ts-expect-error resolvers are registered with hooks.resolver
  hooks.on('resolvePool', () => undefined);
  // @ts-expect-error a drop handler gets (conn, reason), not (reason)
  hooks.on('drop', (reason: number) => void reason);
});

test('run modes', () => {
  expectTypeOf(HOOK_TABLE.create).toEqualTypeOf<'series-async'>();
  expectTypeOf(HOOK_TABLE.checkout).toEqualTypeOf<'series-sync'>();
  expectTypeOf(HOOK_TABLE.release).toEqualTypeOf<'series-sync'>();
  expectTypeOf(HOOK_TABLE.drop).toEqualTypeOf<'isolated'>();
  expectTypeOf(HOOK_TABLE.reload).toEqualTypeOf<'series-async'>();
  expectTypeOf(HOOK_TABLE.resolveUser).toEqualTypeOf<'first'>();
  expectTypeOf(HOOK_TABLE.resolvePool).toEqualTypeOf<'first'>();
  expectTypeOf(HOOK_TABLE['pool:created']).toEqualTypeOf<'event'>();
});

test('the plugin context (v2): what a plugin receives', () => {
  expectTypeOf(TOKENS.PluginContext).toEqualTypeOf<InjectionToken<PluginContext<any>>>();
  type Ctx = PluginContext<LeaseAuditConfig>;
  expectTypeOf<Ctx['config']>().toEqualTypeOf<LeaseAuditConfig>();
  expectTypeOf<Ctx['sectionOf']>().returns.toEqualTypeOf<LeaseAuditConfig>();
  expectTypeOf<Ctx['hooks']>().toEqualTypeOf<Hooks>();
  expectTypeOf<Ctx['provide']>().toEqualTypeOf<<T>(token: InjectionToken<T>, value: T) => void>();
  expectTypeOf<Ctx['use']>().toEqualTypeOf<<T>(token: InjectionToken<T>) => T | undefined>();
  expectTypeOf<Ctx['report']>().parameters.toEqualTypeOf<[name: string, source: () => Report]>();
  expectTypeOf<Ctx['logger']>().toEqualTypeOf<Logger>();
  expectTypeOf<Ctx['clock']>().toEqualTypeOf<Clock>();
  expectTypeOf(kernel.service(LEASE_AUDIT)).toEqualTypeOf<LeaseAudit | undefined>();
  expectTypeOf<HookOrder>().toEqualTypeOf<'pre' | 'post'>();
  expectTypeOf(new ClientError('WEIR_E_X', '53300', 'm').sqlstate).toEqualTypeOf<string>();
});

