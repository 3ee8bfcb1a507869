import { z } from 'zod';
import { inject, injectable, size, TOKENS, type PluginContext, type WeirPlugin, type PluginDescriptor } from '@weir/kernel';
import { MESSAGE_HOOKS } from '@weir/proxy';
import { StatementCache, STATEMENT_CACHE } from './statement-cache.js';
import { StatementRegistry } from './statements.js';
import { installProxyHandlers, PLUGIN_NAME } from './proxy-handlers.js';

export const configSchema = z.object({
  max_per_connection: z.number().int().positive().default(1000).describe('Prepared statements kept on each server connection; the least recently used are closed first.'),
  /**
   * Cache repeated unnamed (anonymous) Parse of the same query shape too. Off by default: an
   * unnamed statement is planned afresh by PostgreSQL at every Parse, so a shared one could give
   * a client an error PostgreSQL would not (0A000 once after an ALTER TABLE of what it reads).
   */
  cache_anonymous: z.boolean().default(false).describe('Share repeated unnamed Parses of the same query shape too (faster; after an ALTER TABLE the first client to run such a statement may get 0A000 once).'),
  /** Distinct statement shapes remembered across all clients. */
  max_statements: z.number().int().positive().default(10_000).describe('Distinct statement shapes remembered across all clients.'),
  /** Bytes of those statements (query text and parameter types), over all clients: the least recently used are forgotten first. */
  max_statement_bytes: size.prefault('64MB').pipe(z.number().int().positive()).describe('Bytes of those statements (query text and parameter types) over all clients; the least recently used are forgotten first.'),
  /** Bytes one client's statement names may hold; a Parse past it is refused (54000, WEIR_E_PS_CLIENT_LIMIT). */
  max_client_statement_bytes: size.prefault('16MB').pipe(z.number().int().positive()).describe("Bytes one client's statement names may hold; a Parse past it is refused (54000, WEIR_E_PS_CLIENT_LIMIT)."),
}).strict();

export type PreparedStatementsConfig = z.infer<typeof configSchema>;

const descriptor: PluginDescriptor<typeof configSchema> = {
  name: PLUGIN_NAME,
  configKey: 'prepared_statements',
  configSchema,
  kernel: '^0.1.0',
};

/**
 * Per-connection statement cache (both hosts, emptied on `drop`) and, in the proxy,
 * prepared statements through transaction pooling.
 */
@injectable()
export class PreparedStatementsPlugin implements WeirPlugin {
  static readonly plugin = descriptor;
  readonly cache: StatementCache;
  private readonly cleanup: Array<() => void> = [];

  constructor(@inject(TOKENS.PluginContext) private readonly ctx: PluginContext<PreparedStatementsConfig>) {
    this.cache = new StatementCache(ctx.config.max_per_connection);
  }

  setup(): void {
    const { cache, ctx } = this;
    const logger = ctx.logger;
    ctx.provide(STATEMENT_CACHE, cache);
    const perPool = (name: string, help: string, read: (r: ReturnType<StatementCache['report']>[number]) => number, type: 'counter' | 'gauge' = 'counter') =>
      ctx.metric(name, help, type, () => cache.report().map((r) => ({ labels: { pool: r.pool }, value: read(r) })));
    perPool('weir_prepared_statements_hits_total', 'Statements found prepared on the server connection', (r) => r.hits);
    perPool('weir_prepared_statements_misses_total', 'Statements prepared on a server connection', (r) => r.misses);
    perPool('weir_prepared_statements_evictions_total', 'Statements closed to stay within max_per_connection', (r) => r.evictions);
    perPool('weir_prepared_statements_stale_total', 'Statements forgotten because a table they read changed (0A000)', (r) => r.stale);
    perPool('weir_prepared_statements_cached', 'Statements prepared across the pool\'s server connections', (r) => r.statements, 'gauge');
    ctx.hooks.on('drop', (conn) => void cache.drop(conn.id));
    const messageHooks = ctx.use(MESSAGE_HOOKS);
    if (messageHooks !== undefined) {
      const c = ctx.config;
      const registry = new StatementRegistry({ maxStatements: c.max_statements, maxBytes: c.max_statement_bytes });
      this.cleanup.push(installProxyHandlers(messageHooks, cache, registry, {
        cacheAnonymous: c.cache_anonymous,
        maxClientBytes: c.max_client_statement_bytes,
        onRefused: (pool, client, bytes) => logger.warn({ code: 'WEIR_E_PS_CLIENT_LIMIT', plugin: PLUGIN_NAME, pool, client, bytes, max_client_statement_bytes: c.max_client_statement_bytes },
          'a client\'s prepared statements reached max_client_statement_bytes: its Parse was refused (54000); logged once per client'),
      }));
      logger.info({ max_per_connection: c.max_per_connection, max_statement_bytes: c.max_statement_bytes, max_client_statement_bytes: c.max_client_statement_bytes },
        'prepared statements through transaction pooling on');
      ctx.metric('weir_prepared_statement_registry_bytes', 'Bytes of the statement shapes remembered (max_statement_bytes bounds them)', 'gauge',
        () => [{ labels: {}, value: registry.bytes }]);
      ctx.metric('weir_prepared_statement_registry_evictions_total', 'Statement shapes forgotten to stay within max_statements / max_statement_bytes', 'counter',
        () => [{ labels: {}, value: registry.evictions }]);
      ctx.report('PREPARED_STATEMENT_REGISTRY', () => ({
        columns: ['statements', 'max_statements', 'bytes', 'max_bytes', 'evictions'],
        rows: [[registry.size, c.max_statements, registry.bytes, c.max_statement_bytes, registry.evictions]],
      }));
    }
    ctx.report('PREPARED_STATEMENTS', () => ({
      columns: ['pool', 'connections', 'statements', 'hits', 'misses', 'evictions', 'stale'],
      rows: cache.report().map((r) => [r.pool, r.connections, r.statements, r.hits, r.misses, r.evictions, r.stale]),
    }));
  }

  dispose(): void {
    while (this.cleanup.length) this.cleanup.pop()!();
  }
}
