/**
 * Type-level tests pinning what a plugin author writes against (docs/plugins.md, "The author's
 * path"). Run by vitest's typecheck in the `unit` project (vitest.config.mts): an `expectTypeOf`
 * that no longer holds, or a `@ts-expect-error` line that stops being an error, fails `npm test`.
 * A change here is a change of the plugin API: a major kernel version.
 */
import { expectTypeOf, test } from 'vitest';
import { z } from 'zod';
import {
  Kernel,
  createToken,
  definePlugin,
  duration,
  type Clock,
  type DefinedPlugin,
  type DropReason,
  type HookOrder,
  type Hooks,
  type InjectionToken,
  type Logger,
  type PluginClass,
  type PluginContext,
  type PooledConnection,
  type ReloadCommit,
  type ReloadEvent,
  type Report,
} from './index.js';

const configSchema = z.strictObject({ slow: duration.default(100), report: z.string().default('MINE'), tags: z.array(z.string()).default([]) });
type Mine = { slow: number; report: string; tags: string[] };
declare const ctx: PluginContext<Mine>;
const COUNT = createToken<{ readonly count: number }>('test.count');

test('definePlugin: the context is typed from the schema', () => {
  const P = definePlugin({
    name: 'weir-plugin-mine',
    configKey: 'mine',
    configSchema,
    kernel: '^0.1.0',
    setup(c) {
      expectTypeOf(c).toEqualTypeOf<PluginContext<Mine>>();
      expectTypeOf(c.config).toEqualTypeOf<Mine>();
      expectTypeOf(c.sectionOf).returns.toEqualTypeOf<Mine>();
      // @ts-expect-error the section is read-only
      c.config = { slow: 1, report: 'X', tags: [] };
      // @ts-expect-error no such key in the schema
      void c.config.colour;
    },
  });
  expectTypeOf(P).toEqualTypeOf<DefinedPlugin<typeof configSchema>>();
  expectTypeOf(P).toExtend<PluginClass>();
  expectTypeOf(P.plugin.configSchema).toEqualTypeOf<typeof configSchema>();
  void new Kernel({ config: {} as never, plugins: [P] });
});

test('definePlugin: the descriptor is required, setup returns nothing or a cleanup', () => {
  const base = { name: 'p', configKey: 'p', configSchema: z.strictObject({}) };
  definePlugin({ ...base, setup: () => undefined });
  definePlugin({ ...base, setup: () => () => undefined });
  definePlugin({ ...base, setup: async () => async () => undefined });
  // @ts-expect-error setup returns void or a cleanup function, not a value
  definePlugin({ ...base, setup: () => 42 });
  // @ts-expect-error configKey is required
  definePlugin({ name: 'p', configSchema: z.strictObject({}), setup() {} });
  // @ts-expect-error setup is required
  definePlugin(base);
  // @ts-expect-error the schema is a zod schema
  definePlugin({ ...base, configSchema: { parse: () => ({}) }, setup() {} });
});

test('the context: scoped services, reports, metrics, logger, clock', () => {
  expectTypeOf(ctx.hooks).toEqualTypeOf<Hooks>();
  expectTypeOf(ctx.logger).toEqualTypeOf<Logger>();
  expectTypeOf(ctx.clock).toEqualTypeOf<Clock>();
  expectTypeOf(ctx.name).toEqualTypeOf<string>();
  // provide: the value must be of the token's type
  ctx.provide(COUNT, { count: 1 });
  // @ts-expect-error a string is no { count: number }
  ctx.provide(COUNT, 'one');
  // @ts-expect-error a token is needed, not a name string's value
  ctx.provide({ count: 1 });
  expectTypeOf(ctx.use(COUNT)).toEqualTypeOf<{ readonly count: number } | undefined>();
  expectTypeOf(createToken<number>('n')).toEqualTypeOf<InjectionToken<number>>();
  ctx.report('MINE', () => ({ columns: ['pool', 'n'], rows: [['app@db', 1]] }));
  expectTypeOf(ctx.report).parameter(1).returns.toEqualTypeOf<Report>();
  // @ts-expect-error a report's cells are strings, numbers, booleans or null
  ctx.report('MINE', () => ({ columns: ['x'], rows: [[{ nested: 1 }]] }));
  ctx.metric('weir_mine_total', 'help', 'counter', () => [{ labels: { pool: 'app@db' }, value: 1 }]);
  // @ts-expect-error counter, gauge or histogram
  ctx.metric('weir_mine', 'help', 'summary', () => []);
  // @ts-expect-error a sample's value is a number
  ctx.metric('weir_mine_total', 'help', 'counter', () => [{ labels: {}, value: '1' }]);
});

test('hooks: handler arguments by hook name', () => {
  ctx.hooks.on('checkout', (conn) => expectTypeOf(conn).toEqualTypeOf<PooledConnection>());
  ctx.hooks.on('release', (conn) => expectTypeOf(conn).toEqualTypeOf<PooledConnection>());
  ctx.hooks.on('create', async (conn) => {
    expectTypeOf(conn).toEqualTypeOf<PooledConnection>();
  });
  ctx.hooks.on('drop', (conn, reason) => {
    expectTypeOf(conn).toEqualTypeOf<PooledConnection>();
    expectTypeOf(reason).toEqualTypeOf<DropReason>();
  });
  ctx.hooks.on('reload', (event) => {
    expectTypeOf(event).toEqualTypeOf<ReloadEvent>();
    return (): void => undefined;
  });
  expectTypeOf(ctx.hooks.on('checkout', () => undefined)).toEqualTypeOf<() => void>();
  ctx.hooks.resolver('resolveUser', (req) => void expectTypeOf(req.user).toEqualTypeOf<string>());
  ctx.hooks.listen('pool:retired', (entry, reason) => void expectTypeOf(reason).toEqualTypeOf<string>());
  // @ts-expect-error a drop handler gets (conn, reason): a number is no PooledConnection
  ctx.hooks.on('drop', (n: number) => void n);
  // @ts-expect-error a reload handler returns nothing, a commit or a promise of one: not a string
  ctx.hooks.on('reload', () => 'done');
  expectTypeOf<ReloadCommit>().toEqualTypeOf<() => void>();
});

test('hooks: an unknown hook name, or one on the wrong method, is a type error', () => {
  // @ts-expect-error no such hook
  ctx.hooks.on('connect', () => undefined);
  // @ts-expect-error resolvers register with hooks.resolver
  ctx.hooks.on('resolvePool', () => undefined);
  // @ts-expect-error events register with hooks.listen
  ctx.hooks.on('pool:created', () => undefined);
  // @ts-expect-error lifecycle hooks register with hooks.on
  ctx.hooks.listen('checkout', () => undefined);
  // @ts-expect-error no such resolution point
  ctx.hooks.resolver('resolveDatabase', () => undefined);
});

test("hooks: order is 'pre' or 'post'", () => {
  expectTypeOf<HookOrder>().toEqualTypeOf<'pre' | 'post'>();
  ctx.hooks.on('checkout', { order: 'pre', handler: (conn) => expectTypeOf(conn).toEqualTypeOf<PooledConnection>() });
  ctx.hooks.on('drop', { order: 'post', handler: (_conn, reason) => expectTypeOf(reason).toEqualTypeOf<DropReason>() });
  ctx.hooks.listen('pool:created', { order: 'post', handler: () => undefined });
  ctx.hooks.on('release', { handler: () => undefined });
  // @ts-expect-error 'first' is no order
  ctx.hooks.on('checkout', { order: 'first', handler: () => undefined });
  // @ts-expect-error an object hook needs its handler
  ctx.hooks.on('checkout', { order: 'pre' });
});
