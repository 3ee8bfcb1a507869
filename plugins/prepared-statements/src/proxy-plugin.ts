import { inject, injectable, TOKENS, type PluginContext } from '@weir/kernel';
import { MESSAGE_HOOKS } from '@weir/proxy';
import { PLUGIN_NAME } from './name.js';
import { PreparedStatementsPlugin, type PreparedStatementsConfig } from './plugin.js';
import { installProxyHandlers } from './proxy-handlers.js';
import { StatementRegistry } from './statements.js';

/**
 * The proxy adapter: the host-neutral plugin plus prepared statements through transaction
 * pooling, on the proxy's per-message hooks (MESSAGE_HOOKS). Same descriptor, same section.
 * Outside the proxy (no MESSAGE_HOOKS) it is the core plugin.
 */
@injectable()
export class PreparedStatementsProxyPlugin extends PreparedStatementsPlugin {
  constructor(@inject(TOKENS.PluginContext) ctx: PluginContext<PreparedStatementsConfig>) {
    super(ctx);
  }

  protected override setupHost(): void {
    const { ctx, cache } = this;
    const messageHooks = ctx.use(MESSAGE_HOOKS);
    if (messageHooks === undefined) return;
    const c = ctx.config;
    const logger = ctx.logger;
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
}
