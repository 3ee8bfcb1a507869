import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { inject, Kernel, silentLogger, TOKENS, type Hooks, type PluginDescriptor, type Config } from '@weir/kernel';
import { satisfiesRange } from '@weir/kernel';
import { keyedBy, satisfies } from './plugins.js';

const seen: unknown[] = [];

// A third-party plugin written without @injectable(): only parameter decorators.
class AuditLike {
  static readonly plugin: PluginDescriptor = { name: 'audit-like', configKey: 'audit', configSchema: z.object({ level: z.string().default('x') }) };
  constructor(@inject(TOKENS.Hooks) readonly hooks: Hooks, @inject(TOKENS.PluginConfig) readonly cfg: { level: string }) {}
  setup(): void {
    seen.push(typeof this.hooks.on, this.cfg.level);
  }
}

function config(plugins: Config['plugins']): Config {
  return {
    general: {
      host: '127.0.0.1', port: 0, admin_user: 'a', admin_password: 'a', connect_timeout: 1000, query_wait_timeout: 1000,
      idle_timeout: 0, server_lifetime: 0, shutdown_timeout: 1000, client_login_timeout: 1000, log_level: 'silent', max_client_conn: 10,
    },
    plugins,
    pools: {},
  } as Config;
}

describe('plugins named by package', () => {
  it('a plugin keyed by its package name is constructed with the same injected services', async () => {
    const Keyed = keyedBy(AuditLike as never, 'weir-plugin-audit-like');
    expect(Keyed.plugin.configKey).toBe('weir-plugin-audit-like');
    expect(Keyed.plugin.name).toBe('audit-like');
    const kernel = new Kernel({ config: config({ 'weir-plugin-audit-like': { enabled: true, level: 'debug' } }), logger: silentLogger(), plugins: [Keyed] });
    await kernel.start();
    expect(seen).toEqual(['function', 'debug']);
    await kernel.stop();
  });

  it('satisfies is the kernel\'s range check (tested there)', () => {
    expect(satisfies).toBe(satisfiesRange);
  });
});
