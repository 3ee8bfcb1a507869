import {
  TOKENS, configFingerprint, createToken, inject, messageOf,
  type AuthSecret, type Clock, type Config, type InjectionToken, type Logger,
  type PluginContext, type PluginDescriptor, type Report, type ReloadCommit, type ReloadEvent, type ResolvedUser, type ResolveUserRequest, type WeirPlugin,
} from '@weir/kernel';
import { DatabaseCredentials, type CredentialStats } from './credentials.js';
import { PgLookup, type LookupFactory, type LookupTarget } from './lookup.js';
import { authQueryConfigSchema, authQuerySectionSchema, type AuthQueryConfig, type AuthQuerySection } from './schema.js';

export type AuthQueryMode = 'passthrough' | 'dedicated';

export interface AuthQueryStats extends CredentialStats {
  database: string;
  mode: AuthQueryMode;
  /** Dedicated mode: the role every user's connections log in as. */
  serverUser: string | null;
}

/** The credential cache, provided by this plugin (ctx.provide; hosts: kernel.service(AUTH_QUERY_CACHE)). */
export interface AuthQueryCache {
  /** Forget cached lookups: of one user of a database, of a whole database, or of all. */
  clear(database?: string, user?: string): void;
  /** Counters per database with an auth_query section (what SHOW AUTH_QUERY shows). */
  stats(): AuthQueryStats[];
}

export const AUTH_QUERY_CACHE: InjectionToken<AuthQueryCache> = createToken<AuthQueryCache>('weir.plugin.auth-query.cache');

/**
 * Optional: register a LookupFactory under this token on the kernel's container before the
 * kernel starts to look users up somewhere else than with node-postgres (tests, other stores).
 */
export const AUTH_QUERY_LOOKUP: InjectionToken<LookupFactory> = createToken<LookupFactory>('weir.plugin.auth-query.lookup');

const SOURCE = '@weir/plugin-auth-query';
/** A login whose lookup raced a config change follows the new config; this bounds the retries. */
const MAX_RETRIES = 2;
const DEFAULT_POOL_SIZE = 20;

/** One database's auth_query as it runs now. Replaced as a whole when its config changes. */
class DatabaseAuth {
  constructor(
    readonly database: string,
    readonly section: AuthQuerySection,
    readonly fingerprint: string,
    readonly credentials: DatabaseCredentials,
    public poolSize: number,
  ) {}

  get mode(): AuthQueryMode {
    return this.section.server_user === undefined ? 'passthrough' : 'dedicated';
  }

  answer(user: string, secret: AuthSecret): ResolvedUser {
    const s = this.section;
    if (s.server_user !== undefined) {
      return {
        database: this.database, user, secret, source: SOURCE,
        pool: {
          key: { database: this.database, user: s.server_user },
          size: this.poolSize,
          serverAuth: { mode: 'credentials', user: s.server_user, password: s.server_password ?? '' },
        },
      };
    }
    return {
      database: this.database, user, secret, source: SOURCE,
      pool: { key: { database: this.database, user }, size: this.poolSize, serverAuth: { mode: 'passthrough' } },
    };
  }
}

interface Wanted {
  readonly section: AuthQuerySection;
  readonly target: LookupTarget;
  readonly fingerprint: string;
  readonly poolSize: number;
}

/**
 * Answers `resolveUser` for users a database's config does not list: runs that database's
 * `auth_query` with the user name as $1 and hands back the stored secret, and the pool the
 * user lands in — its own (passthrough) or the shared `server_user` pool (dedicated).
 */
export class AuthQueryPlugin implements WeirPlugin {
  static readonly plugin: PluginDescriptor = {
    name: SOURCE,
    configKey: 'auth_query',
    configSchema: authQueryConfigSchema,
    poolSectionKey: 'auth_query',
    poolSectionSchema: authQuerySectionSchema,
    kernel: '^0.1.0',
  };

  private options: AuthQueryConfig;
  private readonly states = new Map<string, DatabaseAuth>();
  private lookups!: LookupFactory;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(@inject(TOKENS.PluginContext) private readonly ctx: PluginContext<AuthQueryConfig>) {
    this.options = ctx.config;
    this.clock = ctx.clock;
    this.logger = ctx.logger;
  }

  setup(): void {
    const ctx = this.ctx;
    this.lookups = ctx.use(AUTH_QUERY_LOOKUP)
      ?? ((target) => new PgLookup(target, (err) => this.logger.warn({ database: target.database, error: err.message }, 'auth_query connection error')));
    this.apply(this.wanted(ctx.runningConfig.current, this.options));
    const cache: AuthQueryCache = { clear: (database, user) => this.clear(database, user), stats: () => this.stats() };
    ctx.provide(AUTH_QUERY_CACHE, cache);
    ctx.hooks.resolver('resolveUser', (req) => this.resolveUser(req));
    ctx.hooks.on('reload', (event) => this.reload(event));
    ctx.report('AUTH_QUERY', () => this.report());
    const metric = (name: string, help: string, read: (s: AuthQueryStats) => number, type: 'counter' | 'gauge' = 'counter') =>
      ctx.metric(name, help, type, () => this.stats().map((s) => ({ labels: { database: s.database }, value: read(s) })));
    metric('weir_auth_query_cache_hits_total', 'Logins answered from the auth_query cache', (s) => s.hits);
    metric('weir_auth_query_cache_misses_total', 'Logins that needed an auth_query lookup', (s) => s.misses);
    metric('weir_auth_query_lookups_total', 'auth_query lookups run on PostgreSQL', (s) => s.lookups);
    metric('weir_auth_query_failures_total', 'auth_query lookups that failed (connection or query error)', (s) => s.failures);
    metric('weir_auth_query_cache_entries', 'Users remembered in the auth_query cache', (s) => s.entries, 'gauge');
  }

  async dispose(): Promise<void> {
    const closing = [...this.states.values()].map((s) => this.close(s));
    this.states.clear();
    await Promise.all(closing);
  }

  async resolveUser(req: ResolveUserRequest): Promise<ResolvedUser | undefined> {
    for (let attempt = 0; ; attempt++) {
      const state = this.states.get(req.database);
      if (state === undefined) return undefined;
      const secret = await state.credentials.get(req.user);
      // The section changed while the lookup ran: answer as the new config says.
      if (this.states.get(req.database) !== state && attempt < MAX_RETRIES) continue;
      return secret === null ? undefined : state.answer(req.user, secret);
    }
  }

  stats(): AuthQueryStats[] {
    return [...this.states.values()].map((s) => ({
      database: s.database,
      mode: s.mode,
      serverUser: s.section.server_user ?? null,
      ...s.credentials.stats(),
    }));
  }

  clear(database?: string, user?: string): void {
    for (const s of this.states.values()) if (database === undefined || s.database === database) s.credentials.clear(user);
  }

  report(): Report {
    return {
      columns: ['database', 'mode', 'server_user', 'cache_entries', 'hits', 'misses', 'lookups', 'not_found', 'failures', 'last_error'],
      rows: this.stats().map((s) => [s.database, s.mode, s.serverUser, s.entries, s.hits, s.misses, s.lookups, s.notFound, s.failures, s.lastError]),
    };
  }

  /** `reload`: a database whose auth_query section went away or changed gets a fresh, empty cache. */
  /** Decide: the new sections and where their lookups go (a bad one refuses the reload); the commit swaps the caches. */
  private reload(event: ReloadEvent): ReloadCommit {
    const options = this.ctx.sectionOf(event.next);
    const wanted = this.wanted(event.next, options);
    return () => {
      this.options = options;
      this.apply(wanted);
    };
  }

  private apply(wanted: Map<string, Wanted>): void {
    for (const [database, state] of this.states) {
      const w = wanted.get(database);
      if (w !== undefined && w.fingerprint === state.fingerprint) {
        state.poolSize = w.poolSize;
        continue;
      }
      this.states.delete(database);
      void this.close(state); // close() logs its own failure
      this.logger.info({ database }, w === undefined
        ? 'auth_query section removed: credential cache cleared'
        : 'auth_query section changed: credential cache cleared');
    }
    for (const [database, w] of wanted) {
      if (this.states.has(database)) continue;
      const credentials = new DatabaseCredentials(database, this.lookups(w.target), {
        cacheTtlMs: w.section.cache_ttl,
        failureTtlMs: w.section.cache_failure_ttl,
        minIntervalMs: w.section.min_interval,
        maxEntries: this.options.cache_max_entries,
      }, this.clock, (user, error) => this.logger.warn({ database, user, error }, 'auth_query lookup failed'));
      this.states.set(database, new DatabaseAuth(database, w.section, w.fingerprint, credentials, w.poolSize));
      this.logger.info({ database, mode: w.section.server_user === undefined ? 'passthrough' : 'dedicated' }, 'auth_query enabled');
    }
  }

  /** The auth_query sections a config asks for, with where their lookups go. */
  private wanted(config: Config, options: AuthQueryConfig): Map<string, Wanted> {
    const out = new Map<string, Wanted>();
    for (const [database, pool] of Object.entries(config.pools ?? {})) {
      if (pool === null || typeof pool !== 'object' || pool.auth_query === undefined) continue;
      const section = authQuerySectionSchema.parse(pool.auth_query);
      const target: LookupTarget = {
        database,
        host: typeof pool.server_host === 'string' ? pool.server_host : '127.0.0.1',
        port: typeof pool.server_port === 'number' ? pool.server_port : 5432,
        lookupDatabase: section.database ?? (typeof pool.server_database === 'string' ? pool.server_database : database),
        user: section.user,
        password: section.password,
        query: section.query,
        timeoutMs: options.lookup_timeout,
      };
      const fingerprint = configFingerprint({ section, target, maxEntries: options.cache_max_entries });
      const poolSize = section.pool_size ?? (typeof pool.pool_size === 'number' ? pool.pool_size : DEFAULT_POOL_SIZE);
      out.set(database, { section, target, fingerprint, poolSize });
    }
    return out;
  }

  private async close(state: DatabaseAuth): Promise<void> {
    try {
      await state.credentials.close();
    } catch (err) {
      this.logger.warn({ database: state.database, error: messageOf(err) }, 'closing an auth_query connection failed');
    }
  }
}
