import { z } from 'zod';
import { inject, injectable, size, TOKENS, type PluginContext, type WeirPlugin, type PluginDescriptor } from '@weir/kernel';
import { StatementCache, STATEMENT_CACHE } from './statement-cache.js';
import { PLUGIN_NAME } from './name.js';

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
 * The host-neutral core: the per-connection statement cache (emptied on `drop`), provided under
 * the kernel's STATEMENT_CACHE for any host (@weir/pg tracks named statements in it), its metrics
 * and the PREPARED_STATEMENTS report. Imports no host. In the proxy, the adapter entry
 * `@weir/plugin-prepared-statements/proxy` adds prepared statements through transaction pooling.
 */
@injectable()
export class PreparedStatementsPlugin implements WeirPlugin {
  static readonly plugin = descriptor;
  readonly cache: StatementCache;
  protected readonly cleanup: Array<() => void> = [];

  constructor(@inject(TOKENS.PluginContext) protected readonly ctx: PluginContext<PreparedStatementsConfig>) {
    this.cache = new StatementCache(ctx.config.max_per_connection);
  }

  setup(): void {
    const { cache, ctx } = this;
    ctx.provide(STATEMENT_CACHE, cache);
    const perPool = (name: string, help: string, read: (r: ReturnType<StatementCache['report']>[number]) => number, type: 'counter' | 'gauge' = 'counter') =>
      ctx.metric(name, help, type, () => cache.report().map((r) => ({ labels: { pool: r.pool }, value: read(r) })));
    perPool('weir_prepared_statements_hits_total', 'Statements found prepared on the server connection', (r) => r.hits);
    perPool('weir_prepared_statements_misses_total', 'Statements prepared on a server connection', (r) => r.misses);
    perPool('weir_prepared_statements_evictions_total', 'Statements closed to stay within max_per_connection', (r) => r.evictions);
    perPool('weir_prepared_statements_stale_total', 'Statements forgotten because a table they read changed (0A000)', (r) => r.stale);
    perPool('weir_prepared_statements_cached', 'Statements prepared across the pool\'s server connections', (r) => r.statements, 'gauge');
    ctx.hooks.on('drop', (conn) => void cache.drop(conn.id));
    this.setupHost();
    ctx.report('PREPARED_STATEMENTS', () => ({
      columns: ['pool', 'connections', 'statements', 'hits', 'misses', 'evictions', 'stale'],
      rows: cache.report().map((r) => [r.pool, r.connections, r.statements, r.hits, r.misses, r.evictions, r.stale]),
    }));
  }

  /** What a host adapter adds, set up before the PREPARED_STATEMENTS report (none in the core). */
  protected setupHost(): void {}

  dispose(): void {
    while (this.cleanup.length) this.cleanup.pop()!();
  }
}
