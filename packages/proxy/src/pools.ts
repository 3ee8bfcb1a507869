import { configFingerprint, type PoolOptions, type PoolSpec, type ResolvedUser, type AuthSecret } from '@weir/kernel';
import type { PoolConfig, UserConfig, ProxyConfig } from './config/schema.js';
import type { ServerTarget } from './server/connector.js';
import type { ServerCredentials } from './server/credentials.js';
import { secretFromPassword } from './client/auth.js';
import { serverTlsFor } from './server/tls.js';
import type { ProxyGeneralConfig } from './config/general.js';

/** Pool options from `general`, a size, and the pool section's overrides. */
export function poolOptions(general: ProxyGeneralConfig, max: number, min = 0, pool?: Pick<PoolConfig, 'reserve_pool_size'>): PoolOptions {
  return {
    max,
    min: Math.min(min, max),
    reserve: pool?.reserve_pool_size ?? general.reserve_pool_size,
    reserveTimeoutMs: general.reserve_pool_timeout,
    acquireTimeoutMs: general.query_wait_timeout,
    idleTimeoutMs: general.idle_timeout,
    maxLifetimeMs: general.server_lifetime,
    connectTimeoutMs: general.connect_timeout,
  };
}

/** How a pool logs in when it reuses a client's stored secret (passthrough). */
export function passthroughCredentials(secret: AuthSecret): ServerCredentials {
  switch (secret.kind) {
    case 'plain': return { kind: 'password', password: secret.password };
    case 'md5': return { kind: 'md5', hash: secret.hash };
    default: return { kind: 'none' }; // SCRAM: keys come from the first client login
  }
}

function staticTarget(general: ProxyGeneralConfig, database: string, pool: PoolConfig, user: UserConfig): ServerTarget {
  const explicit = user.server_password !== undefined;
  return {
    address: {
      host: pool.server_host,
      port: pool.server_port,
      database: pool.server_database ?? database,
      user: user.server_username ?? user.username,
    },
    credentials: explicit
      ? { kind: 'password', password: user.server_password! }
      : user.password ? passthroughCredentials(secretFromPassword(user.password)) : { kind: 'none' },
    passthrough: !explicit && user.server_username === undefined,
    welcome: null,
    tls: serverTlsFor(general, pool, database),
  };
}

/** The static pools a config asks for: one per (database, listed user). */
export function staticSpecs(config: ProxyConfig): PoolSpec[] {
  const specs: PoolSpec[] = [];
  for (const [database, pool] of Object.entries(config.pools)) {
    for (const user of pool.users) {
      specs.push({
        key: { database, user: user.username },
        kind: 'static',
        options: poolOptions(config.general, user.pool_size ?? pool.pool_size, pool.min_pool_size, pool),
        target: { server: staticTarget(config.general, database, pool, user), mode: pool.pool_mode },
      });
    }
  }
  return specs;
}

/** The target of a pool for a user resolved by a plugin (auth_query). */
export function resolvedTarget(general: ProxyGeneralConfig, pool: PoolConfig, database: string, resolved: ResolvedUser): ServerTarget {
  const auth = resolved.pool.serverAuth;
  const tls = serverTlsFor(general, pool, database);
  const address = {
    host: pool.server_host,
    port: pool.server_port,
    database: pool.server_database ?? database,
    user: auth.mode === 'credentials' ? auth.user : resolved.user,
  };
  if (auth.mode === 'credentials') {
    return { address, credentials: { kind: 'password', password: auth.password }, passthrough: false, welcome: null, tls };
  }
  return { address, credentials: passthroughCredentials(resolved.secret), passthrough: true, welcome: null, tls };
}

/** A stable fingerprint of what a static pool connects to, to tell on reload whether it must be rebuilt. */
export function targetFingerprint(spec: PoolSpec): string {
  const t = spec.target as { server: ServerTarget; mode: string };
  const c = t.server.credentials;
  return configFingerprint([t.server.address, t.server.tls?.describe ?? '', c.kind, c.kind === 'password' ? c.password : c.kind === 'md5' ? c.hash : '', t.mode, spec.options.min]);
}
