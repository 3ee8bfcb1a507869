/**
 * A PostgreSQL cluster with roles stored md5 and SCRAM, a lookup function that counts its
 * calls, and a weir in front of it with auth_query, dynamic_pools and idle_gc — for the
 * auth-query e2e files. Only this folder uses it.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { startCluster, startWeir, type Cluster, type WeirInstance } from '@weir/testkit';

export type { Cluster, WeirInstance };

export interface Role {
  readonly name: string;
  readonly password: string;
}

/** Roles every stack has. None of them is listed in weir's config unless a test says so. */
export const ROLES = {
  /** stored as an md5 hash */
  alice: { name: 'alice', password: 'alice-pw', method: 'md5' },
  /** stored as a SCRAM-SHA-256 verifier */
  bob: { name: 'bob', password: 'bob-pw', method: 'scram-sha-256' },
  carol: { name: 'carol', password: 'carol-pw', method: 'scram-sha-256' },
  dave: { name: 'dave', password: 'dave-pw', method: 'md5' },
  /** the dedicated-mode server_user */
  svc: { name: 'svc', password: 'svc-pw', method: 'scram-sha-256' },
  /** what the lookup connection logs in as: may only call weir_lookup() */
  lookup: { name: 'weir_auth', password: 'lookup-pw', method: 'scram-sha-256' },
} as const;

export const DB = 'appdb';

export interface AuthQueryOptions {
  serverUser?: Role;
  cacheTtl?: string;
  cacheFailureTtl?: string;
  minInterval?: string;
  poolSize?: number;
  /** Replace the whole section (YAML lines under `auth_query:`), or `null` for none. */
  raw?: string | null;
}

export interface ConfigOptions {
  auth?: AuthQueryOptions;
  /** Static users of appdb: `password` as weir should hold it. */
  staticUsers?: { username: string; password: string; server_password?: string }[];
  maxPools?: number;
  gc?: { interval: string; poolIdleTimeout: string } | null;
  poolMode?: 'transaction' | 'session';
}

export class Stack {
  constructor(readonly cluster: Cluster, readonly weir: WeirInstance) {}

  config(opts: ConfigOptions = {}): string {
    return weirConfig(this.cluster.port, opts);
  }

  conn(role: Role, database = DB): pg.ClientConfig {
    return { host: '127.0.0.1', port: this.weir.port, user: role.name, password: role.password, database };
  }

  /** A connected pg.Client through weir; errors after connect are swallowed (the test sees them on query). */
  async connect(role: Role, database = DB): Promise<pg.Client> {
    const c = new pg.Client(this.conn(role, database));
    c.on('error', () => {});
    await c.connect();
    return c;
  }

  async one<T = any>(role: Role, sql: string): Promise<T> {
    const c = await this.connect(role);
    try {
      return (await c.query(sql)).rows[0] as T;
    } finally {
      await c.end().catch(() => {});
    }
  }

  /** The error a login is refused with. */
  async loginError(role: Role, database = DB): Promise<{ code?: string; message: string }> {
    const c = new pg.Client(this.conn(role, database));
    c.on('error', () => {});
    try {
      await c.connect();
    } catch (e) {
      return e as { code?: string; message: string };
    }
    await c.end().catch(() => {});
    throw new Error(`login as ${role.name} was accepted`);
  }

  async show(what: string): Promise<Record<string, string | null>[]> {
    const c = new pg.Client({ host: '127.0.0.1', port: this.weir.port, user: 'admin', password: 'admin', database: 'weir' });
    c.on('error', () => {});
    await c.connect();
    try {
      return (await c.query(`SHOW ${what}`)).rows;
    } finally {
      await c.end().catch(() => {});
    }
  }

  async admin(command: string): Promise<void> {
    const c = new pg.Client({ host: '127.0.0.1', port: this.weir.port, user: 'admin', password: 'admin', database: 'weir' });
    c.on('error', () => {});
    await c.connect();
    try {
      await c.query(command);
    } finally {
      await c.end().catch(() => {});
    }
  }

  /** Dynamic pools of appdb in SHOW POOLS, sorted by user. */
  async dynamicPools(): Promise<string[]> {
    return [...(await this.pools()).values()].filter((r) => String(r.dynamic).startsWith('t')).map((r) => r.user!).sort();
  }

  /** SHOW POOLS rows of appdb, by user. */
  async pools(): Promise<Map<string, Record<string, string | null>>> {
    const rows = await this.show('POOLS');
    return new Map(rows.filter((r) => r.database === DB).map((r) => [r.user!, r]));
  }

  async authQueryRow(): Promise<Record<string, string | null>> {
    const row = (await this.show('AUTH_QUERY')).find((r) => r.database === DB);
    if (!row) throw new Error('SHOW AUTH_QUERY has no row for appdb');
    return row;
  }

  /** How many times PostgreSQL ran the lookup function. */
  async lookups(): Promise<number> {
    const [r] = await this.cluster.query<{ n: string }>(
      'SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM public.weir_lookups');
    return Number(r!.n);
  }

  /** Rewrite the config and apply it: with the admin console's RELOAD (returns once applied) or SIGHUP. */
  async reload(opts: ConfigOptions, via: 'admin' | 'sighup' = 'admin'): Promise<void> {
    const from = this.weir.logs.length;
    const yaml = this.config(opts);
    if (via === 'sighup') {
      await this.weir.reload(yaml);
      await this.weir.waitForLog(/config reloaded|RELOAD (rejected|failed)/, 20_000, from);
    } else {
      writeFileSync(this.weir.configFile, yaml.replaceAll('${PORT}', String(this.weir.port)));
      await this.admin('RELOAD');
    }
    const failed = this.weir.logs.slice(from).find((l) => /RELOAD (rejected|failed)/.test(l));
    if (failed) throw new Error(`reload failed: ${failed}`);
  }

  /** Poll (bounded) until `check` passes; returns its last value. No timing is asserted. */
  async until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, tries = 200, everyMs = 100): Promise<T> {
    let v = await probe();
    for (let i = 0; i < tries && !ok(v); i++) {
      await new Promise((r) => setTimeout(r, everyMs));
      v = await probe();
    }
    if (!ok(v)) throw new Error(`gave up waiting for ${what}: last ${JSON.stringify(v)}`);
    return v;
  }

  async stop(): Promise<void> {
    await this.weir.stop().catch(() => {});
    await this.cluster.stop().catch(() => {});
  }
}

export function weirConfig(clusterPort: number, opts: ConfigOptions = {}): string {
  const a = opts.auth ?? {};
  const gc = opts.gc === undefined ? { interval: '1s', poolIdleTimeout: '1h' } : opts.gc;
  const users = (opts.staticUsers ?? [])
    .map((u) => `      - username: ${u.username}\n        password: ${JSON.stringify(u.password)}` +
      (u.server_password === undefined ? '' : `\n        server_password: ${JSON.stringify(u.server_password)}`)).join('\n');
  let auth: string;
  if (a.raw === null) auth = '';
  else if (a.raw !== undefined) auth = `    auth_query:\n${a.raw}`;
  else {
    auth = [
      '    auth_query:',
      '      query: "SELECT usename, passwd FROM public.weir_lookup($1)"',
      `      user: ${ROLES.lookup.name}`,
      `      password: ${ROLES.lookup.password}`,
      '      database: postgres',
      `      cache_ttl: ${a.cacheTtl ?? '1h'}`,
      `      cache_failure_ttl: ${a.cacheFailureTtl ?? '1s'}`,
      `      min_interval: ${a.minInterval ?? '0s'}`,
      `      pool_size: ${a.poolSize ?? 4}`,
      ...(a.serverUser ? [`      server_user: ${a.serverUser.name}`, `      server_password: ${a.serverUser.password}`] : []),
    ].join('\n');
  }
  return `general:
  host: 127.0.0.1
  port: \${PORT}
  admin_user: admin
  admin_password: admin
  query_wait_timeout: 10s
  shutdown_timeout: 5s
  log_level: info

plugins:
  auth_query: { enabled: true }
  dynamic_pools: { enabled: true, max_pools: ${opts.maxPools ?? 100} }
${gc === null ? '  idle_gc: { enabled: false }' : `  idle_gc: { enabled: true, interval: ${gc.interval}, pool_idle_timeout: ${gc.poolIdleTimeout} }`}

pools:
  ${DB}:
    server_host: 127.0.0.1
    server_port: ${clusterPort}
    pool_mode: ${opts.poolMode ?? 'transaction'}
    pool_size: 4
    users:${users === '' ? ' []' : '\n' + users}
${auth}
`;
}

/** A cluster with the roles, appdb, a table anyone may write, and the counting lookup function. */
export async function startStack(name: string, opts: ConfigOptions = {}): Promise<Stack> {
  const cluster = await startCluster({ name });
  try {
    for (const r of Object.values(ROLES)) await cluster.createRole(r.name, r.password, { method: r.method });
    await cluster.createDatabase(DB);
    await cluster.query('CREATE TABLE public.ledger (id serial PRIMARY KEY, who text NOT NULL DEFAULT current_user, note text)', [], { database: DB });
    await cluster.query('GRANT ALL ON public.ledger, public.ledger_id_seq TO PUBLIC', [], { database: DB });
    await cluster.query(`CREATE SEQUENCE public.weir_lookups`);
    await cluster.query(`
      CREATE FUNCTION public.weir_lookup(u text) RETURNS TABLE (usename name, passwd text)
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
      BEGIN
        PERFORM nextval('public.weir_lookups');
        RETURN QUERY SELECT s.usename, s.passwd FROM pg_catalog.pg_shadow s WHERE s.usename = u;
      END $$`);
    await cluster.query('REVOKE ALL ON FUNCTION public.weir_lookup(text) FROM PUBLIC');
    await cluster.query(`GRANT EXECUTE ON FUNCTION public.weir_lookup(text) TO ${ROLES.lookup.name}`);
    const weir = await startWeir({ config: weirConfig(cluster.port, opts) });
    return new Stack(cluster, weir);
  } catch (e) {
    await cluster.stop().catch(() => {});
    throw e;
  }
}

/** psql (from PATH or next to the server programs) against weir. */
export function psql(stack: Stack, role: Role, sql: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const sibling = join(stack.cluster.binDir, 'psql');
  const bin = existsSync('/usr/bin/psql') ? '/usr/bin/psql' : existsSync(sibling) ? sibling : 'psql';
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(stack.weir.port), '-U', role.name, '-d', DB, '-c', sql], {
      env: { ...process.env, PGPASSWORD: role.password, PGCONNECT_TIMEOUT: '10' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
