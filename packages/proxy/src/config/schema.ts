import { z } from 'zod';
import { generalSchema, pluginSectionSchema, serverTlsMode, tlsProtocols } from '@weir/kernel';

/** A user listed in the config: its password is an md5 hash, a SCRAM verifier or plaintext. */
export const userSchema = z.object({
  username: z.string().min(1),
  password: z.string().optional(),
  pool_size: z.number().int().positive().optional(),
  server_username: z.string().min(1).optional(),
  server_password: z.string().optional(),
}).strict();

export const poolModeSchema = z.enum(['transaction', 'session']);

/** One entry under `pools:` — the database name clients ask for. Plugin-owned sections (auth_query) are validated by their plugin. */
export const poolSchema = z.object({
  server_host: z.string().min(1).default('127.0.0.1'),
  server_port: z.number().int().min(1).max(65535).default(5432),
  server_database: z.string().min(1).optional(),
  pool_mode: poolModeSchema.default('transaction'),
  pool_size: z.number().int().positive().default(20),
  min_pool_size: z.number().int().min(0).default(0),
  /** Overrides general.max_db_connections for this database. */
  max_db_connections: z.number().int().min(0).optional(),
  /** Overrides general.reserve_pool_size for this database's pools. */
  reserve_pool_size: z.number().int().min(0).optional(),
  /** Override general.server_tls_* for this database. */
  server_tls_sslmode: serverTlsMode.optional(),
  server_tls_ca_file: z.string().min(1).optional(),
  server_tls_cert_file: z.string().min(1).optional(),
  server_tls_key_file: z.string().min(1).optional(),
  server_tls_protocols: tlsProtocols.optional(),
  auth_type: z.enum(['auto', 'trust']).default('auto'),
  users: z.array(userSchema).default([]),
}).passthrough();

export type UserConfig = z.infer<typeof userSchema>;
export type PoolConfig = z.infer<typeof poolSchema>;
export type PoolMode = z.infer<typeof poolModeSchema>;

/** The whole config file: `general` (kernel), `plugins` (each validated by its plugin), `pools`. */
export const proxyConfigSchema = z.strictObject({
  general: generalSchema.prefault({}),
  plugins: z.record(z.string(), pluginSectionSchema).default({}),
  pools: z.record(z.string(), poolSchema).default({}),
});

export type ProxyConfig = z.infer<typeof proxyConfigSchema>;
