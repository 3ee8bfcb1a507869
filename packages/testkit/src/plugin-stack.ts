import pg from 'pg';
import { startCluster, type Cluster } from './cluster.js';
import { startWeir, type WeirInstance } from './weir.js';

export interface PluginConfigOptions {
  /** The body of `plugins:`, unindented: `'weir-plugin-mine: { threshold: 1s }'`, several lines allowed. */
  plugins: string;
  /** The port of `appdb`'s PostgreSQL. */
  serverPort: number;
  /** The proxy's port. Default `${PORT}`: startWeir picks a free one. */
  port?: number | string;
  /** More `general:` keys, e.g. `{ metrics_port: 9127, log_level: 'info' }`. */
  general?: Record<string, string | number>;
}

/**
 * A weir config for a plugin's tests: `plugins` enabled; one pool, `appdb` on 127.0.0.1:`serverPort`
 * (transaction pooling, 2 servers), for user `app` / `secret`; the admin console as `admin` / `admin`.
 */
export function pluginTestConfig(o: PluginConfigOptions): string {
  const general = { host: '127.0.0.1', port: o.port ?? '${PORT}', admin_user: 'admin', admin_password: 'admin', ...o.general };
  return [
    `general: { ${Object.entries(general).map(([k, v]) => `${k}: ${v}`).join(', ')} }`,
    'plugins:',
    ...o.plugins.split('\n').filter((l) => l.trim() !== '').map((l) => `  ${l}`),
    'pools:',
    '  appdb:',
    '    server_host: 127.0.0.1',
    `    server_port: ${o.serverPort}`,
    '    pool_mode: transaction',
    '    pool_size: 2',
    '    users: [{ username: app, password: secret }]',
    '',
  ].join('\n');
}

export interface PluginStack {
  readonly cluster: Cluster;
  readonly weir: WeirInstance;
  /** How a client reaches `appdb` through weir, as user `app` (for `new pg.Client(stack.app)`). */
  readonly app: pg.ClientConfig;
  /** Rows of an admin console command, e.g. `await stack.admin('SHOW LEASES')`. */
  admin(command: string): Promise<Record<string, unknown>[]>;
  /** Stop weir, then the cluster. */
  stop(): Promise<void>;
}

export interface StartPluginStackOptions extends Omit<PluginConfigOptions, 'serverPort' | 'port'> {
  /** Names the cluster's temp dir and logs. */
  name: string;
}

/**
 * What a plugin's proxy test needs: a throwaway cluster with role `app` (password `secret`,
 * md5-stored) owning `appdb`, and a weir proxy in front of it running pluginTestConfig's config.
 * Third-party plugins named under `plugins:` resolve as npm packages from the project (see startWeir).
 */
export async function startPluginStack(o: StartPluginStackOptions): Promise<PluginStack> {
  const cluster = await startCluster({ name: o.name });
  let weir: WeirInstance;
  try {
    await cluster.createRole('app', 'secret');
    await cluster.createDatabase('appdb', 'app');
    weir = await startWeir({ config: pluginTestConfig({ plugins: o.plugins, general: o.general, serverPort: cluster.port }) });
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  const at = { host: weir.host, port: weir.port };
  return {
    cluster,
    weir,
    app: { ...at, database: 'appdb', user: 'app', password: 'secret' },
    async admin(command) {
      const c = new pg.Client({ ...at, database: 'weir', user: 'admin', password: 'admin' });
      await c.connect();
      try {
        return (await c.query(command)).rows as Record<string, unknown>[];
      } finally {
        await c.end();
      }
    },
    async stop() {
      await weir.stop();
      await cluster.stop();
    },
  };
}
