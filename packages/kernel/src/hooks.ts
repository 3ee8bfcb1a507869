import { ErrorCodes, WeirError, messageOf } from './errors.js';
import {
  HOOK_TABLE,
  type AnyHookName,
  type EventMap,
  type EventName,
  type HookMap,
  type HookName,
  type ReloadEvent,
  type ResolverMap,
  type ResolverName,
  type RunMode,
} from './hook-table.js';
import { silentLogger, type Logger } from './logger.js';
import type { DropReason, PooledConnection } from './types.js';

export { HOOK_TABLE } from './hook-table.js';
export type * from './hook-table.js';

type AnyFn = (...args: any[]) => any;

/** Where a handler runs among the others of its hook (rollup's semantics): every `pre`, then the unordered, then every `post`; registration order within each. */
export type HookOrder = 'pre' | 'post';

/** A handler, or an object hook `{ handler, order }` (as in rollup). */
export type HandlerSpec<F> = F | { readonly handler: F; readonly order?: HookOrder | null };

const RANK = { pre: 0, normal: 1, post: 2 } as const;

/** One registered handler. */
interface Entry {
  readonly fn: AnyFn;
  readonly owner: string;
  /** 0 pre, 1 normal, 2 post */
  readonly rank: number;
}

/** Handler lists, `null` when empty so a runner tests one pointer. Copy-on-write: runners iterate a stable array. */
type Lists = { [K in AnyHookName]: Entry[] | null };

/** State shared by a Hooks object and its owner-scoped views. */
export class HookTable {
  readonly lists: Lists = {
    create: null,
    checkout: null,
    release: null,
    drop: null,
    reload: null,
    resolveUser: null,
    resolvePool: null,
    'pool:created': null,
    'pool:retired': null,
    'connection:error': null,
  };
  /** Set by the kernel once it has started: from then on only a `late()` view may register. */
  sealed = false;
  constructor(readonly logger: Logger) {}
}

const ANONYMOUS = '(anonymous)';

/** Wrap a handler's error as WEIR_E_HOOK_FAILED naming the plugin and the hook. */
export function hookError(err: unknown, owner: string, hook: string): WeirError {
  if (err instanceof WeirError && err.code === ErrorCodes.HOOK_FAILED && err.details.hook === hook) return err;
  return new WeirError(
    ErrorCodes.HOOK_FAILED,
    `${hook} hook of plugin ${owner} failed: ${messageOf(err)}`,
    { plugin: owner, hook },
    { cause: err },
  );
}

/** Series, sync runner for checkout and release: an index loop, errors wrapped with plugin + hook. */
function runSync(list: readonly Entry[], conn: PooledConnection, hook: 'checkout' | 'release'): void {
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    try {
      e.fn(conn);
    } catch (err) {
      throw hookError(err, e.owner, hook);
    }
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function';
}

/**
 * The hook table: plugins register handlers, the kernel runs them. One runner per run mode
 * (see HOOK_TABLE). `withOwner(name)` gives a view whose registrations default to that owner.
 */
export class Hooks {
  private readonly t: HookTable;
  /** = t.lists, one load less on the hot path */
  private readonly lists: Lists;
  private readonly owner: string;
  private readonly lateBinding: boolean;
  /** a plugin's view (what the kernel hands a plugin): no late() or seal() */
  private readonly plugin: boolean;

  constructor(logger?: Logger);
  constructor(logger: Logger | undefined, shared: HookTable, owner: string, late?: boolean, plugin?: boolean);
  constructor(logger?: Logger, shared?: HookTable, owner?: string, late?: boolean, plugin?: boolean) {
    this.t = shared ?? new HookTable(logger ?? silentLogger());
    this.lists = this.t.lists;
    this.owner = owner ?? ANONYMOUS;
    this.lateBinding = late ?? false;
    this.plugin = plugin ?? false;
  }

  /** A view on the same table whose registrations are owned by `owner` (a plugin name). */
  withOwner(owner: string): Hooks {
    return new Hooks(this.t.logger, this.t, owner, this.lateBinding, this.plugin);
  }

  /** The view the kernel hands a plugin: owned by it, and without the hosts' late() and seal(). */
  forPlugin(owner: string): Hooks {
    return new Hooks(this.t.logger, this.t, owner, false, true);
  }

  /**
   * The late-binding view: its registrations are accepted after `kernel.start()` (for a host that
   * binds once the plugins are set up, as `@weir/pg` does). Any other registration after start is
   * WEIR_E_HOOK_LATE. Give such handlers an `order` so where they run does not depend on when.
   */
  late(): Hooks {
    this.hostOnly('late');
    return new Hooks(this.t.logger, this.t, this.owner, true);
  }

  /** Close registration to all but `late()` views (the kernel calls it once started). */
  seal(): void {
    this.hostOnly('seal');
    this.t.sealed = true;
  }

  private hostOnly(method: string): void {
    if (this.plugin) {
      throw new WeirError(ErrorCodes.HOOK_LATE, `hooks.${method}() is for hosts; a plugin registers its handlers in setup() (plugin ${this.owner})`, {
        plugin: this.owner,
      });
    }
  }

  /** Register a lifecycle hook handler (or `{ handler, order }`). Returns a function that unregisters it. */
  on<K extends HookName>(hook: K, handler: HandlerSpec<HookMap[K]>, owner?: string): () => void {
    return this.add(hook, handler, owner, 'on', isLifecycle);
  }

  /** Register a resolver (first answer wins), or `{ handler, order }`. */
  resolver<K extends ResolverName>(point: K, handler: HandlerSpec<ResolverMap[K]>, owner?: string): () => void {
    return this.add(point, handler, owner, 'resolver', isResolver);
  }

  /** Listen to an event, or `{ handler, order }`. */
  listen<K extends EventName>(event: K, handler: HandlerSpec<EventMap[K]>, owner?: string): () => void {
    return this.add(event, handler, owner, 'listen', isEvent);
  }

  /** True when the hook has at least one handler. */
  has(hook: AnyHookName): boolean {
    return (this.t.lists as Partial<Lists>)[hook] != null;
  }

  /** Remove every handler registered by `owner` (used when a plugin is disposed). */
  removeOwner(owner: string): void {
    const lists = this.t.lists;
    for (const name of Object.keys(lists) as AnyHookName[]) {
      const list = lists[name];
      if (list === null) continue;
      const kept = list.filter((e) => e.owner !== owner);
      lists[name] = kept.length === 0 ? null : kept;
    }
  }

  /** `create`: series, async. undefined when every handler was synchronous (no promise allocated). */
  runCreate(conn: PooledConnection): Promise<void> | undefined {
    const list = this.lists.create;
    if (list === null) return undefined;
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      let r: unknown;
      try {
        r = e.fn(conn);
      } catch (err) {
        return Promise.reject(hookError(err, e.owner, 'create'));
      }
      if (isThenable(r)) return continueSeries(list, i, r, 'create', conn);
    }
    return undefined;
  }

  /** `checkout`: series, sync. Throws WEIR_E_HOOK_FAILED. */
  runCheckout(conn: PooledConnection): void {
    const list = this.lists.checkout;
    if (list !== null) runSync(list, conn, 'checkout');
  }

  /** `release`: series, sync. Throws WEIR_E_HOOK_FAILED. */
  runRelease(conn: PooledConnection): void {
    const list = this.lists.release;
    if (list !== null) runSync(list, conn, 'release');
  }

  /** `drop`: every handler runs; a throw is logged and never stops the others. Never throws. */
  runDrop(conn: PooledConnection, reason: DropReason): void {
    const list = this.lists.drop;
    if (list === null) return;
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      try {
        e.fn(conn, reason);
      } catch (err) {
        this.logFailure(err, e.owner, 'drop', { pool: conn.pool.name, connection: conn.id });
      }
    }
  }

  /**
   * `reload`: series, async, every handler deciding on the event. Resolves with the commits the
   * handlers returned, in order; the first throw rejects with WEIR_E_HOOK_FAILED naming the plugin.
   */
  async runReload(event: ReloadEvent): Promise<Array<{ owner: string; commit: () => void }>> {
    const list = this.lists.reload;
    const commits: Array<{ owner: string; commit: () => void }> = [];
    if (list === null) return commits;
    for (const e of list) {
      let out: unknown;
      try {
        out = await e.fn(event);
      } catch (err) {
        throw hookError(err, e.owner, 'reload');
      }
      if (typeof out === 'function') commits.push({ owner: e.owner, commit: out as () => void });
    }
    return commits;
  }

  /** Ask each resolver in turn; the first answer that is not undefined wins. */
  async resolveFirst<K extends ResolverName>(
    point: K,
    req: Parameters<ResolverMap[K]>[0],
  ): Promise<Awaited<ReturnType<ResolverMap[K]>>> {
    const list = this.lists[point];
    if (list !== null) {
      for (let i = 0; i < list.length; i++) {
        const e = list[i]!;
        let answer: unknown;
        try {
          answer = await e.fn(req);
        } catch (err) {
          throw hookError(err, e.owner, point);
        }
        if (answer !== undefined) return answer as Awaited<ReturnType<ResolverMap[K]>>;
      }
    }
    return undefined as Awaited<ReturnType<ResolverMap[K]>>;
  }

  /** Tell observers. Each listener is isolated; never throws. */
  emit<K extends EventName>(event: K, ...args: Parameters<EventMap[K]>): void {
    const list = this.lists[event];
    if (list === null) return;
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      try {
        e.fn(...args);
      } catch (err) {
        this.logFailure(err, e.owner, event, {});
      }
    }
  }

  private logFailure(err: unknown, owner: string, hook: string, extra: Record<string, unknown>): void {
    try {
      this.t.logger.error({ err: hookError(err, owner, hook), plugin: owner, hook, ...extra }, `${hook} handler of plugin ${owner} failed`);
    } catch {
      // a broken logger must not break the pool either
    }
  }

  private add(
    name: string,
    handler: unknown,
    owner: string | undefined,
    method: string,
    accepts: (mode: RunMode) => boolean,
  ): () => void {
    const mode = (HOOK_TABLE as Record<string, RunMode>)[name];
    if (mode === undefined || !accepts(mode)) {
      throw new WeirError(ErrorCodes.HOOK_UNKNOWN, `hooks.${method}: unknown hook "${name}" (plugin ${owner ?? this.owner})`, {
        hook: name,
        plugin: owner ?? this.owner,
      });
    }
    const who = owner ?? this.owner;
    const isObject = handler !== null && typeof handler === 'object';
    const fn = isObject ? (handler as { handler?: unknown }).handler : handler;
    const order = isObject ? ((handler as { order?: unknown }).order ?? null) : null;
    if (typeof fn !== 'function' || (order !== null && order !== 'pre' && order !== 'post')) {
      const problem = typeof fn !== 'function' ? 'handler is not a function' : `order must be 'pre' or 'post', not ${JSON.stringify(order)}`;
      throw new WeirError(ErrorCodes.HOOK_INVALID_HANDLER, `hooks.${method}("${name}"): ${problem} (plugin ${who})`, { hook: name, plugin: who });
    }
    if (this.t.sealed && !this.lateBinding) {
      throw new WeirError(
        ErrorCodes.HOOK_LATE,
        `hooks.${method}("${name}"): the kernel has started; register handlers in setup(), or through hooks.late() in a host (plugin ${who})`,
        { hook: name, plugin: who },
      );
    }
    const entry: Entry = { fn: fn as AnyFn, owner: who, rank: RANK[(order ?? 'normal') as keyof typeof RANK] };
    const lists = this.t.lists as Record<string, Entry[] | null>;
    const list = lists[name] ?? null;
    if (list === null) lists[name] = [entry];
    else {
      // after every entry of the same or an earlier rank: registration order within a rank
      let at = list.length;
      while (at > 0 && list[at - 1]!.rank > entry.rank) at--;
      lists[name] = [...list.slice(0, at), entry, ...list.slice(at)];
    }
    return () => {
      const cur = lists[name] ?? null;
      if (cur === null || !cur.includes(entry)) return;
      const kept = cur.filter((e) => e !== entry);
      lists[name] = kept.length === 0 ? null : kept;
    };
  }
}

const isLifecycle = (m: RunMode): boolean => m === 'series-async' || m === 'series-sync' || m === 'isolated';
const isResolver = (m: RunMode): boolean => m === 'first';
const isEvent = (m: RunMode): boolean => m === 'event';

/** Continue a series run after handler `i` returned `pending` (i = -1: start from the first). */
async function continueSeries(list: readonly Entry[], i: number, pending: unknown, hook: string, arg: unknown): Promise<void> {
  if (i >= 0) {
    try {
      await pending;
    } catch (err) {
      throw hookError(err, list[i]!.owner, hook);
    }
  }
  for (let j = i + 1; j < list.length; j++) {
    const e = list[j]!;
    try {
      await e.fn(arg);
    } catch (err) {
      throw hookError(err, e.owner, hook);
    }
  }
}
