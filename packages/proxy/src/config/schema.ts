import { z, type ZodType } from 'zod';
import { pluginSectionSchema, serverTlsMode, tlsProtocols, type PluginClass } from '@weir/kernel';
import { proxyGeneralSchema } from './general.js';

/** A user listed in the config: its password is an md5 hash, a SCRAM verifier or plaintext. */
export const userSchema = z.strictObject({
  username: z.string().min(1).describe('The name the client logs in with.'),
  password: z.string().optional().describe('An `md5…` hash, a SCRAM-SHA-256 verifier, or plaintext (omit with auth_type: trust).'),
  pool_size: z.number().int().positive().optional().describe("This user's pool size (overrides the pool's pool_size)."),
  server_username: z.string().min(1).optional().describe('Role weir logs in to PostgreSQL as (defaults to username).'),
  server_password: z.string().optional().describe('Password for server_username (defaults to passthrough of the client login).'),
});

export const poolModeSchema = z.enum(['transaction', 'session']);

/** The keys of one entry under `pools:` — the database name clients ask for — that weir itself owns. */
export const poolShape = {
  server_host: z.string().min(1).default('127.0.0.1').describe('Host (or unix socket directory) of PostgreSQL.'),
  server_port: z.number().int().min(1).max(65535).default(5432).describe('Port of PostgreSQL.'),
  server_database: z.string().min(1).optional().describe('Database on the server (defaults to the pool name).'),
  pool_mode: poolModeSchema.default('transaction').describe('transaction: a server connection per transaction; session: per client session.'),
  pool_size: z.number().int().positive().default(20).describe('Most server connections of each (database, user) pool.'),
  min_pool_size: z.number().int().min(0).default(0).describe('Server connections kept open even when idle.'),
  max_db_connections: z.number().int().min(0).optional().describe('Overrides general.max_db_connections for this database.'),
  reserve_pool_size: z.number().int().min(0).optional().describe("Overrides general.reserve_pool_size for this database's pools."),
  server_tls_sslmode: serverTlsMode.optional().describe('Overrides general.server_tls_sslmode for this database.'),
  server_tls_ca_file: z.string().min(1).optional().describe('Overrides general.server_tls_ca_file for this database.'),
  server_tls_cert_file: z.string().min(1).optional().describe('Overrides general.server_tls_cert_file for this database.'),
  server_tls_key_file: z.string().min(1).optional().describe('Overrides general.server_tls_key_file for this database.'),
  server_tls_protocols: tlsProtocols.optional().describe('Overrides general.server_tls_protocols for this database.'),
  auth_type: z.enum(['auto', 'trust']).default('auto').describe('auto: clients authenticate as each user password asks; trust: no client password.'),
  users: z.array(userSchema).default([]).describe('Users of this database listed in the config (static pools).'),
};

/** One entry under `pools:` with weir's keys only: an unknown key is an error. */
export const poolSchema = z.strictObject(poolShape);

export type UserConfig = z.infer<typeof userSchema>;
export type PoolConfig = z.infer<typeof poolSchema>;
export type PoolMode = z.infer<typeof poolModeSchema>;

/**
 * A pool schema that also allows each plugin's pool key (`poolSectionKey`, e.g. auth_query). For
 * validation those sections stay unparsed (the plugin validates them, knowing whether it is
 * enabled); with `describe`, they carry the plugin's own `poolSectionSchema` (JSON Schema, docs).
 */
export function poolSchemaFor(plugins: readonly PluginClass[], describe = false) {
  const extra: Record<string, ZodType> = {};
  for (const P of plugins) {
    const key = P.plugin.poolSectionKey;
    if (key === undefined || key in poolShape) continue;
    const inner = describe && P.plugin.poolSectionSchema !== undefined ? P.plugin.poolSectionSchema : z.unknown();
    extra[key] = inner.optional().describe(`Section of plugin ${P.plugin.name} (\`plugins.${P.plugin.configKey}\` must be enabled).`);
  }
  return z.strictObject({ ...poolShape, ...extra });
}

/** The whole config file, pools allowing the pool keys of `plugins`. Plugin sections are checked by their plugin. */
export function proxyConfigSchemaFor(plugins: readonly PluginClass[] = []) {
  return z.strictObject({
    general: proxyGeneralSchema.prefault({}).describe('Listener, admin console, timeouts, TLS, logging and limits.'),
    plugins: z.record(z.string(), pluginSectionSchema).default({}).describe('Plugins switched on and off, each with its settings.'),
    pools: z.record(z.string(), poolSchemaFor(plugins)).default({}).describe('One entry per database clients ask for.'),
  });
}

/** The whole config file with no plugin pool keys: `general` (the kernel's keys and the proxy's), `plugins` (each validated by its plugin), `pools`. */
export const proxyConfigSchema = proxyConfigSchemaFor();

export type ProxyConfig = z.infer<typeof proxyConfigSchema>;
