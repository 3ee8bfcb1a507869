/**
 * A PostgreSQL cluster with database `appdb` (owner `app`, password stored as SCRAM) and a weir
 * in front of it with the prepared_statements plugin: pool `appdb` in transaction mode and pool
 * `sessdb` (the same database) in session mode — for the prepared-statements e2e files. Only
 * this folder uses it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { startCluster, startWeir, type Cluster, type WeirInstance } from '@weir/testkit';

export type { Cluster, WeirInstance };

export const DB = 'appdb';
export const SESSION_DB = 'sessdb';
export const APP = { name: 'app', password: 'app-secret' } as const;
/** Stored md5 in PostgreSQL, weir holds the hash: an md5 login for raw-protocol tests (rawLogin in ../helpers). */
export const RAW = { name: 'rawapp', password: 'raw-secret' } as const;

const md5Hash = (user: { name: string; password: string }) => 'md5' + createHash('md5').update(user.password + user.name).digest('hex');

export interface WeirOptions {
  poolSize?: number;
  maxPerConnection?: number;
  cacheAnonymous?: boolean;
  /** prepared_statements.max_statement_bytes / max_client_statement_bytes (plugin defaults when left out). */
  maxStatementBytes?: string;
  maxClientStatementBytes?: string;
  /** Leave the plugin out of the config (plain pass-through everywhere). */
  withoutPlugin?: boolean;
}

export function weirConfig(clusterPort: number, o: WeirOptions = {}): string {
  const plugin = o.withoutPlugin ? '' : `plugins:
  prepared_statements:
    enabled: true
    max_per_connection: ${o.maxPerConnection ?? 100}
    cache_anonymous: ${o.cacheAnonymous ?? true}
${o.maxStatementBytes ? `    max_statement_bytes: ${o.maxStatementBytes}\n` : ''}${o.maxClientStatementBytes ? `    max_client_statement_bytes: ${o.maxClientStatementBytes}\n` : ''}`;
  return `general:
  host: 127.0.0.1
  port: \${PORT}
  admin_user: admin
  admin_password: admin
  query_wait_timeout: 120s
  shutdown_timeout: 10s
  max_client_conn: 2000
  log_level: info
${plugin}pools:
  ${DB}:
    server_host: 127.0.0.1
    server_port: ${clusterPort}
    pool_mode: transaction
    pool_size: ${o.poolSize ?? 4}
    users: [{ username: ${APP.name}, password: ${APP.password} }, { username: ${RAW.name}, password: ${md5Hash(RAW)} }]
  ${SESSION_DB}:
    server_host: 127.0.0.1
    server_port: ${clusterPort}
    server_database: ${DB}
    pool_mode: session
    pool_size: 2
    users: [{ username: ${APP.name}, password: ${APP.password} }]
`;
}

export interface Stack {
  cluster: Cluster;
  weir: WeirInstance;
  /** Another weir on the same cluster (stopped by stop()). */
  startWeir(o: WeirOptions): Promise<WeirInstance>;
  conn(database?: string, port?: number): pg.ClientConfig;
  url(database?: string, port?: number): string;
  /** Rows of an admin console SHOW, as the admin user. */
  show(what: string, port?: number): Promise<Record<string, string>[]>;
  stop(): Promise<void>;
}

export async function startStack(name: string, o: WeirOptions = {}, clusterSettings?: Record<string, string>): Promise<Stack> {
  let cluster: Cluster | undefined;
  const weirs: WeirInstance[] = [];
  try {
    cluster = await startCluster({ name, settings: { max_connections: '100', ...clusterSettings } });
    await cluster.createRole(APP.name, APP.password, { method: 'scram-sha-256' });
    await cluster.createRole(RAW.name, RAW.password, { method: 'md5' });
    await cluster.createDatabase(DB, APP.name);
    const c = cluster;
    const start = async (opts: WeirOptions) => {
      const w = await startWeir({ config: weirConfig(c.port, opts) });
      weirs.push(w);
      return w;
    };
    const weir = await start(o);
    let stopping: Promise<void> | undefined;
    const conn = (database = DB, port = weir.port): pg.ClientConfig => ({
      host: '127.0.0.1', port, user: APP.name, password: APP.password, database,
    });
    return {
      cluster: c,
      weir,
      startWeir: start,
      conn,
      url: (database = DB, port = weir.port) => `postgres://${APP.name}:${APP.password}@127.0.0.1:${port}/${database}`,
      async show(what, port = weir.port) {
        const admin = new pg.Client({ host: '127.0.0.1', port, user: 'admin', password: 'admin', database: 'weir' });
        await admin.connect();
        try {
          return (await admin.query(`SHOW ${what}`)).rows as Record<string, string>[];
        } finally {
          await admin.end().catch(() => {});
        }
      },
      stop: () =>
        (stopping ??= (async () => {
          await Promise.all(weirs.map((w) => w.stop().catch(() => {})));
          await c.stop().catch(() => {});
        })()),
    };
  } catch (e) {
    await Promise.all(weirs.map((w) => w.stop().catch(() => {})));
    await cluster?.stop().catch(() => {});
    throw e;
  }
}

function pgProgram(name: string): string {
  for (const p of [`/usr/bin/${name}`, `/usr/lib/postgresql/15/bin/${name}`]) if (existsSync(p)) return p;
  return name;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a program under `bash -c 'ulimit -n 4096; exec …'`; never rejects for a non-zero exit. SIGKILL after timeoutMs (a safety net). */
export function run(program: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 170_000): Promise<RunResult> {
  const quoted = [pgProgram(program), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `ulimit -n 4096; exec ${quoted}`], {
      env: { ...process.env, PGCONNECT_TIMEOUT: '60', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** pgbench as `app` against 127.0.0.1:port/appdb. */
export function pgbench(port: number, args: string[], database = DB): Promise<RunResult> {
  return run('pgbench', ['-h', '127.0.0.1', '-p', String(port), '-U', APP.name, ...args, database], { PGPASSWORD: APP.password });
}

/** psql as `app` (or `user`), -X -v ON_ERROR_STOP=1 -At, with SQL on -c (several -c allowed). */
export function psql(port: number, commands: string[], opts: { database?: string; user?: string; password?: string } = {}): Promise<RunResult> {
  const args = ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', opts.user ?? APP.name, '-d', opts.database ?? DB];
  for (const c of commands) args.push('-c', c);
  return run('psql', args, { PGPASSWORD: opts.password ?? APP.password }, 60_000);
}
