import { describe, expect, it } from 'vitest';
import { ErrorCodes, WeirError } from './errors.js';
import { Hooks } from './hooks.js';
import { fakePooled, memoryLogger } from './test-util.js';
import type { ReloadEvent } from './hook-table.js';
import { PoolPlan } from './reload-plan.js';

const reloadEvent = (): ReloadEvent => ({
  previous: { general: {} as never, plugins: {}, pools: {} },
  next: { general: {} as never, plugins: {}, pools: {} },
  diff: { changed: [], poolsAdded: [], poolsRemoved: [], poolsChanged: [] },
  pools: new PoolPlan(new Map()),
});

describe('Hooks', () => {
  it('runs handlers in registration order, for every series hook', async () => {
    const hooks = new Hooks();
    const seen: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      hooks.on('create', () => void seen.push(`create:${name}`), name);
      hooks.on('checkout', () => void seen.push(`checkout:${name}`), name);
      hooks.on('release', () => void seen.push(`release:${name}`), name);
      hooks.on('drop', () => void seen.push(`drop:${name}`), name);
      hooks.on('reload', () => void seen.push(`reload:${name}`), name);
    }
    const conn = fakePooled();
    expect(hooks.runCreate(conn)).toBeUndefined();
    hooks.runCheckout(conn);
    hooks.runRelease(conn);
    hooks.runDrop(conn, 'idle');
    await hooks.runReload(reloadEvent());
    expect(seen).toEqual(
      ['create', 'checkout', 'release', 'drop', 'reload'].flatMap((h) => ['a', 'b', 'c'].map((n) => `${h}:${n}`)),
    );
  });

  it('awaits async create handlers one after another', async () => {
    const hooks = new Hooks();
    const seen: string[] = [];
    hooks.on('create', () => void seen.push('sync-1'));
    hooks.on('create', async () => {
      await new Promise((r) => setTimeout(r, 5));
      seen.push('async-2');
    });
    hooks.on('create', () => void seen.push('sync-3'));
    const run = hooks.runCreate(fakePooled());
    expect(run).toBeInstanceOf(Promise);
    expect(seen).toEqual(['sync-1']);
    await run;
    expect(seen).toEqual(['sync-1', 'async-2', 'sync-3']);
  });

  it('costs nothing without handlers: no promise, undefined answers', async () => {
    const hooks = new Hooks();
    const conn = fakePooled();
    expect(hooks.runCreate(conn)).toBeUndefined();
    expect(hooks.runCheckout(conn)).toBeUndefined();
    expect(hooks.runRelease(conn)).toBeUndefined();
    expect(hooks.runDrop(conn, 'error')).toBeUndefined();
    expect(hooks.has('checkout')).toBe(false);
    expect(await hooks.resolveFirst('resolveUser', { database: 'db', user: 'x' })).toBeUndefined();
  });

  it('does not allocate a promise when every create handler is synchronous', () => {
    const hooks = new Hooks();
    hooks.on('create', () => undefined);
    hooks.on('create', () => undefined);
    expect(hooks.runCreate(fakePooled())).toBeUndefined();
  });

  it('wraps a throwing handler as WEIR_E_HOOK_FAILED naming the plugin and the hook', async () => {
    const hooks = new Hooks();
    const after: string[] = [];
    const boom = new Error('boom');
    hooks.on('checkout', () => {
      throw boom;
    }, 'plugin-x');
    hooks.on('checkout', () => void after.push('ran'), 'plugin-y');
    let caught: unknown;
    try {
      hooks.runCheckout(fakePooled());
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(WeirError);
    const e = caught as WeirError;
    expect(e.code).toBe(ErrorCodes.HOOK_FAILED);
    expect(e.details).toEqual({ plugin: 'plugin-x', hook: 'checkout' });
    expect(e.message).toContain('plugin-x');
    expect(e.message).toContain('checkout');
    expect(e.cause).toBe(boom);
    expect(after).toEqual([]);

    hooks.on('release', () => {
      throw new Error('r');
    }, 'plugin-r');
    expect(() => hooks.runRelease(fakePooled())).toThrow(/release hook of plugin plugin-r failed: r/);

    hooks.on('create', async () => {
      throw new Error('c');
    }, 'plugin-c');
    await expect(hooks.runCreate(fakePooled())).rejects.toMatchObject({ code: 'WEIR_E_HOOK_FAILED', details: { plugin: 'plugin-c', hook: 'create' } });

    hooks.on('reload', () => {
      throw new Error('bad reload');
    }, 'plugin-z');
    await expect(hooks.runReload(reloadEvent())).rejects.toMatchObject({ code: 'WEIR_E_HOOK_FAILED', details: { plugin: 'plugin-z', hook: 'reload' } });
  });

  it('turns a synchronous throw in create into a rejected promise', async () => {
    const hooks = new Hooks();
    hooks.on('create', () => {
      throw new Error('sync create');
    }, 'p');
    const run = hooks.runCreate(fakePooled());
    expect(run).toBeInstanceOf(Promise);
    await expect(run).rejects.toMatchObject({ code: 'WEIR_E_HOOK_FAILED', details: { plugin: 'p', hook: 'create' } });
  });

  it('isolates drop handlers: a throwing one is logged and the others still run', () => {
    const { logger, lines } = memoryLogger();
    const hooks = new Hooks(logger);
    const seen: number[] = [];
    hooks.on('drop', () => void seen.push(1), 'one');
    hooks.on('drop', () => {
      throw new Error('drop bug');
    }, 'two');
    hooks.on('drop', () => void seen.push(3), 'three');
    expect(() => hooks.runDrop(fakePooled(7), 'idle')).not.toThrow();
    expect(seen).toEqual([1, 3]);
    logger.flush();
    const line = lines.find((l) => l.plugin === 'two');
    expect(line).toMatchObject({ plugin: 'two', hook: 'drop', connection: 7, pool: 'app@db' });
  });

  it('first resolver that answers wins; later ones are not asked', async () => {
    const hooks = new Hooks();
    const asked: string[] = [];
    hooks.resolver('resolveUser', (req) => {
      asked.push('a');
      return req.user === 'known-to-a' ? { database: req.database, user: req.user, secret: { kind: 'trust' }, source: 'a', pool: { key: req, size: 1, serverAuth: { mode: 'passthrough' } } } : undefined;
    }, 'a');
    hooks.resolver('resolveUser', async (req) => {
      asked.push('b');
      return { database: req.database, user: req.user, secret: { kind: 'trust' }, source: 'b', pool: { key: req, size: 1, serverAuth: { mode: 'passthrough' } } };
    }, 'b');
    hooks.resolver('resolveUser', () => {
      asked.push('c');
      return undefined;
    }, 'c');
    expect((await hooks.resolveFirst('resolveUser', { database: 'db', user: 'someone' }))?.source).toBe('b');
    expect(asked).toEqual(['a', 'b']);
    asked.length = 0;
    expect((await hooks.resolveFirst('resolveUser', { database: 'db', user: 'known-to-a' }))?.source).toBe('a');
    expect(asked).toEqual(['a']);
  });

  it('wraps a resolver error with plugin and point', async () => {
    const hooks = new Hooks();
    hooks.resolver('resolvePool', () => {
      throw new Error('db down');
    }, 'dynamic-pools');
    await expect(hooks.resolveFirst('resolvePool', { key: { database: 'd', user: 'u' } })).rejects.toMatchObject({
      code: 'WEIR_E_HOOK_FAILED',
      details: { plugin: 'dynamic-pools', hook: 'resolvePool' },
    });
  });

  it('rejects unknown hooks and non-function handlers at registration', () => {
    const hooks = new Hooks();
    expect(() => hooks.on('checkin' as 'checkout', () => undefined, 'p')).toThrow(expect.objectContaining({ code: 'WEIR_E_HOOK_UNKNOWN', details: { hook: 'checkin', plugin: 'p' } }));
    expect(() => hooks.on('resolveUser' as 'checkout', () => undefined)).toThrow(expect.objectContaining({ code: 'WEIR_E_HOOK_UNKNOWN' }));
    expect(() => hooks.resolver('checkout' as 'resolveUser', () => undefined)).toThrow(expect.objectContaining({ code: 'WEIR_E_HOOK_UNKNOWN' }));
    expect(() => hooks.listen('pool:gone' as 'pool:created', () => undefined)).toThrow(expect.objectContaining({ code: 'WEIR_E_HOOK_UNKNOWN' }));
    expect(() => hooks.on('drop', 'nope' as never, 'p')).toThrow(expect.objectContaining({ code: 'WEIR_E_HOOK_INVALID_HANDLER' }));
  });

  it('unregisters, and an emptied hook is empty again', () => {
    const hooks = new Hooks();
    const seen: number[] = [];
    const off1 = hooks.on('checkout', () => void seen.push(1));
    const off2 = hooks.on('checkout', () => void seen.push(2));
    hooks.runCheckout(fakePooled());
    off1();
    off1();
    hooks.runCheckout(fakePooled());
    off2();
    expect(hooks.has('checkout')).toBe(false);
    hooks.runCheckout(fakePooled());
    expect(seen).toEqual([1, 2, 2]);
  });

  it('a handler unregistering during a run does not disturb that run', () => {
    const hooks = new Hooks();
    const seen: number[] = [];
    const off = hooks.on('release', () => {
      seen.push(1);
      off();
    });
    hooks.on('release', () => void seen.push(2));
    hooks.runRelease(fakePooled());
    hooks.runRelease(fakePooled());
    expect(seen).toEqual([1, 2, 2]);
  });

  it('owner views share the table and name their plugin; removeOwner drops its handlers', () => {
    const hooks = new Hooks();
    const view = hooks.withOwner('@weir/plugin-x');
    view.on('checkout', () => {
      throw new Error('x');
    });
    expect(() => hooks.runCheckout(fakePooled())).toThrow(expect.objectContaining({ details: { plugin: '@weir/plugin-x', hook: 'checkout' } }));
    hooks.removeOwner('@weir/plugin-x');
    expect(hooks.has('checkout')).toBe(false);
  });

  it('emits events to every listener, isolating throws', () => {
    const hooks = new Hooks();
    const seen: unknown[] = [];
    hooks.listen('connection:error', () => {
      throw new Error('listener bug');
    });
    hooks.listen('connection:error', (info, err) => void seen.push(info.name, (err as Error).message));
    hooks.emit('connection:error', fakePooled().pool, new Error('reset'));
    expect(seen).toEqual(['app@db', 'reset']);
  });

  it("orders handlers as rollup does: every 'pre', then the unordered, then every 'post'; registration order within each", async () => {
    const hooks = new Hooks();
    const seen: string[] = [];
    const h = (name: string) => () => void seen.push(name);
    hooks.on('checkout', { order: 'post', handler: h('post-1') });
    hooks.on('checkout', h('normal-1'));
    hooks.on('checkout', { order: 'pre', handler: h('pre-1') });
    hooks.on('checkout', { handler: h('normal-2') });
    hooks.on('checkout', { order: 'post', handler: h('post-2') });
    hooks.on('checkout', { order: 'pre', handler: h('pre-2') });
    hooks.runCheckout(fakePooled());
    expect(seen).toEqual(['pre-1', 'pre-2', 'normal-1', 'normal-2', 'post-1', 'post-2']);

    seen.length = 0;
    hooks.resolver('resolveUser', { order: 'post', handler: () => ({ password: 'late' }) as never });
    hooks.resolver('resolveUser', () => void seen.push('normal') as undefined);
    hooks.resolver('resolveUser', { order: 'pre', handler: () => void seen.push('pre') as undefined });
    expect(await hooks.resolveFirst('resolveUser', { database: 'db', user: 'u' })).toEqual({ password: 'late' });
    expect(seen).toEqual(['pre', 'normal']);

    seen.length = 0;
    hooks.listen('pool:retired', { order: 'post', handler: h('ev-post') });
    hooks.listen('pool:retired', { order: 'pre', handler: h('ev-pre') });
    hooks.emit('pool:retired', {} as never, 'gc');
    expect(seen).toEqual(['ev-pre', 'ev-post']);
  });

  it('an ordered handler unregisters like any other; a bad order is WEIR_E_HOOK_INVALID_HANDLER at registration', () => {
    const hooks = new Hooks();
    const off = hooks.on('release', { order: 'pre', handler: () => undefined });
    expect(hooks.has('release')).toBe(true);
    off();
    expect(hooks.has('release')).toBe(false);
    expect(() => hooks.on('release', { order: 'first' as never, handler: () => undefined })).toThrow(
      expect.objectContaining({ code: ErrorCodes.HOOK_INVALID_HANDLER }),
    );
    expect(() => hooks.on('release', { order: 'pre' } as never)).toThrow(expect.objectContaining({ code: ErrorCodes.HOOK_INVALID_HANDLER }));
  });

  it('once sealed, registering is WEIR_E_HOOK_LATE except through late(); unregistering still works', () => {
    const hooks = new Hooks();
    const plugin = hooks.withOwner('p');
    const off = plugin.on('checkout', () => undefined);
    hooks.seal();
    for (const register of [
      () => plugin.on('release', () => undefined),
      () => hooks.on('release', () => undefined),
      () => plugin.resolver('resolvePool', () => undefined),
      () => plugin.listen('pool:created', () => undefined),
    ]) {
      expect(register).toThrow(expect.objectContaining({ code: ErrorCodes.HOOK_LATE }));
    }
    expect(hooks.has('release')).toBe(false);
    const late = hooks.withOwner('host').late();
    late.on('release', () => undefined);
    late.withOwner('host-2').on('drop', () => undefined);
    expect(hooks.has('release')).toBe(true);
    expect(hooks.has('drop')).toBe(true);
    off();
    expect(hooks.has('checkout')).toBe(false);
  });
});
