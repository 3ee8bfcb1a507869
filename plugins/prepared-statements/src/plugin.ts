import { z } from 'zod';
import { inject, injectable, TOKENS, REPORTS, type Hooks, type Kernel, type Logger, type WeirPlugin, type PluginDescriptor } from '@weir/kernel';
import { MESSAGE_HOOKS } from '@weir/proxy';
import { StatementCache, STATEMENT_CACHE } from './statement-cache.js';
import { StatementRegistry } from './statements.js';
import { installProxyHandlers, PLUGIN_NAME } from './proxy-handlers.js';

export const configSchema = z.object({
  max_per_connection: z.number().int().positive().default(1000),
  /** Cache repeated unnamed (anonymous) Parse of the same query shape too. */
  cache_anonymous: z.boolean().default(true),
  /** Distinct statement shapes remembered across all clients. */
  max_statements: z.number().int().positive().default(10_000),
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

  constructor(
    @inject(TOKENS.Hooks) private readonly hooks: Hooks,
    @inject(TOKENS.Kernel) private readonly kernel: Kernel,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.PluginConfig) private readonly config: PreparedStatementsConfig,
  ) {
    this.cache = new StatementCache(config.max_per_connection);
  }

  setup(): void {
    const { cache, kernel } = this;
    kernel.container.register(STATEMENT_CACHE, { useValue: cache });
    this.cleanup.push(this.hooks.on('drop', (conn) => void cache.drop(conn.id)));
    if (kernel.container.isRegistered(MESSAGE_HOOKS, true)) {
      const registry = new StatementRegistry(this.config.max_statements);
      this.cleanup.push(installProxyHandlers(kernel.resolve(MESSAGE_HOOKS), cache, registry, { cacheAnonymous: this.config.cache_anonymous }));
      this.logger.info({ max_per_connection: this.config.max_per_connection }, 'prepared statements through transaction pooling on');
    }
    if (kernel.container.isRegistered(REPORTS, true)) {
      this.cleanup.push(kernel.resolve(REPORTS).register('PREPARED_STATEMENTS', () => ({
        columns: ['pool', 'connections', 'statements', 'hits', 'misses', 'evictions'],
        rows: cache.report().map((r) => [r.pool, r.connections, r.statements, r.hits, r.misses, r.evictions]),
      }), descriptor.name));
    }
  }

  dispose(): void {
    while (this.cleanup.length) this.cleanup.pop()!();
  }
}
