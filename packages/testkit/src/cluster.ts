import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { spawnReaper, track, untrack, type Disposable } from './cleanup.js';
import { DEFAULT_SETTINGS, HBA_CONF, makeBaseDir, settingsFile, writeOwned } from './cluster-files.js';
import { TestkitError } from './errors.js';
import { findPgBin } from './find-pg-bin.js';
import { freePort } from './free-port.js';
import { asPgUser, runPg, runPgSync } from './run.js';
import { ident, literal } from './sql.js';

export interface Cluster {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly dataDir: string;
  /** Directory of the unix socket (also the cluster's temp dir). */
  readonly socketDir: string;
  /** Directory holding the PostgreSQL programs used (psql, pgbench, … may be there too). */
  readonly binDir: string;
  /** Server log file. */
  readonly logFile: string;
  readonly superuser: string;
  readonly superPassword: string;
  url(opts?: { database?: string; user?: string; password?: string }): string;
  query<R = any>(sql: string, params?: unknown[], opts?: { database?: string }): Promise<R[]>;
  createRole(
    name: string,
    password: string,
    opts?: { method?: 'md5' | 'scram-sha-256'; superuser?: boolean; login?: boolean },
  ): Promise<void>;
  createDatabase(name: string, owner?: string): Promise<void>;
  /** Restart (fast). With `whileDown`, stop, await it, then start: clients see PostgreSQL gone for a while. */
  restart(opts?: { whileDown?: () => Promise<void> }): Promise<void>;
  stop(): Promise<void>;
  serverConnections(database?: string): Promise<number>;
}

export interface StartClusterOptions {
  /** postgresql.conf settings, applied after the defaults (max_connections 300, fsync off, …). */
  settings?: Record<string, string>;
  /** Appears in the temp dir's name, to tell clusters apart. */
  name?: string;
  /** pg_hba.conf text instead of the default (local trust, md5 over TCP). */
  hba?: string;
  /** TLS: PEM certificate and key written into the data directory, and `ssl = on`. */
  ssl?: { cert: string; key: string };
}

function pgBin(dir: string, name: string): string {
  const sibling = join(dir, name);
  return existsSync(sibling) ? sibling : findPgBin(name);
}

function logTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no server log)';
  }
}

class ThrowawayCluster implements Cluster, Disposable {
  readonly host = '127.0.0.1' as const;
  readonly superuser = 'postgres';
  readonly dataDir: string;
  private stopping: Promise<void> | undefined;
  private reaper: ChildProcess | undefined;

  constructor(
    readonly socketDir: string,
    readonly binDir: string,
    readonly port: number,
    readonly superPassword: string,
  ) {
    this.dataDir = join(socketDir, 'data');
  }

  get logFile(): string {
    return join(this.socketDir, 'postgres.log');
  }

  private get pgCtl(): string {
    return pgBin(this.binDir, 'pg_ctl');
  }

  /** Start the server (`pg_ctl start -w`) and arm the cleanup. */
  async start(): Promise<void> {
    await runPg(this.pgCtl, ['start', '-D', this.dataDir, '-l', this.logFile, '-w', '-t', '60', '-s']);
    track(this);
    this.reaper = spawnReaper([
      asPgUser(this.pgCtl, ['stop', '-D', this.dataDir, '-m', 'immediate']).flat(),
      ['rm', '-rf', this.socketDir],
    ]);
  }

  url(opts: { database?: string; user?: string; password?: string } = {}): string {
    const user = opts.user ?? this.superuser;
    const password = opts.password ?? (opts.user === undefined ? this.superPassword : undefined);
    const auth = encodeURIComponent(user) + (password !== undefined ? `:${encodeURIComponent(password)}` : '');
    return `postgres://${auth}@${this.host}:${this.port}/${encodeURIComponent(opts.database ?? 'postgres')}`;
  }

  private async withClient<T>(database: string | undefined, fn: (c: pg.Client) => Promise<T>): Promise<T> {
    if (this.stopping) throw new TestkitError('WEIR_E_TESTKIT_CLUSTER_STOPPED', `cluster on port ${this.port} was stopped`);
    const client = new pg.Client({
      host: this.host,
      port: this.port,
      user: this.superuser,
      password: this.superPassword,
      database: database ?? 'postgres',
    });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => {});
    }
  }

  query<R = any>(sql: string, params?: unknown[], opts: { database?: string } = {}): Promise<R[]> {
    return this.withClient(opts.database, async (c) => (await c.query(sql, params as any[])).rows as R[]);
  }

  createRole(
    name: string,
    password: string,
    opts: { method?: 'md5' | 'scram-sha-256'; superuser?: boolean; login?: boolean } = {},
  ): Promise<void> {
    const method = opts.method ?? 'scram-sha-256';
    const attrs = [opts.login === false ? 'NOLOGIN' : 'LOGIN', opts.superuser ? 'SUPERUSER' : 'NOSUPERUSER'];
    return this.withClient(undefined, async (c) => {
      await c.query(`SET password_encryption = ${literal(method)}`);
      await c.query(`CREATE ROLE ${ident(name)} WITH ${attrs.join(' ')} PASSWORD ${literal(password)}`);
    });
  }

  async createDatabase(name: string, owner?: string): Promise<void> {
    const ownerSql = owner ? ` OWNER ${ident(owner)}` : '';
    await this.query(`CREATE DATABASE ${ident(name)}${ownerSql}`);
  }

  async restart(opts: { whileDown?: () => Promise<void> } = {}): Promise<void> {
    if (this.stopping) throw new TestkitError('WEIR_E_TESTKIT_CLUSTER_STOPPED', `cluster on port ${this.port} was stopped`);
    const ctl = (args: string[]) => runPg(this.pgCtl, [...args, '-D', this.dataDir, '-w', '-t', '60', '-s']);
    try {
      if (opts.whileDown === undefined) {
        await ctl(['restart', '-m', 'fast', '-l', this.logFile]);
        return;
      }
      await ctl(['stop', '-m', 'fast']);
      try {
        await opts.whileDown();
      } finally {
        await ctl(['start', '-l', this.logFile]);
      }
    } catch (cause) {
      throw new TestkitError('WEIR_E_TESTKIT_CLUSTER_START', `restart failed; server log:\n${logTail(this.logFile)}`, { cause });
    }
  }

  async serverConnections(database?: string): Promise<number> {
    const filter = database === undefined ? '' : ' AND datname = $1';
    const rows = await this.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()${filter}`,
      database === undefined ? [] : [database],
    );
    return rows[0]!.n;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      untrack(this);
      await runPg(this.pgCtl, ['stop', '-D', this.dataDir, '-m', 'fast', '-w', '-t', '60', '-s']).catch(() => {
        runPgSync(this.pgCtl, ['stop', '-D', this.dataDir, '-m', 'immediate']);
      });
      rmSync(this.socketDir, { recursive: true, force: true });
      this.reaper?.kill();
    })();
    return this.stopping;
  }

  disposeSync(): void {
    this.stopping ??= Promise.resolve();
    runPgSync(this.pgCtl, ['stop', '-D', this.dataDir, '-m', 'immediate']);
    rmSync(this.socketDir, { recursive: true, force: true });
    this.reaper?.kill();
  }
}

const ADDRESS_IN_USE = /could not bind|Address already in use|could not create any TCP\/IP sockets/i;

/**
 * initdb a fresh cluster in a temp dir and start it on a random free port of 127.0.0.1.
 * Superuser `postgres` logs in with a random password over TCP (scram) or without one on
 * the unix socket in `socketDir`. Stop it with `stop()`; it is also stopped and removed
 * when the process exits.
 */
export async function startCluster(opts: StartClusterOptions = {}): Promise<Cluster> {
  const initdb = findPgBin('initdb');
  const binDir = dirname(initdb);
  const base = makeBaseDir(opts.name ?? 'cluster');
  const superPassword = randomBytes(18).toString('base64url');
  const dataDir = join(base, 'data');
  try {
    const pwFile = join(base, 'pwfile');
    writeOwned(pwFile, `${superPassword}\n`);
    await runPg(initdb, [
      '-D', dataDir, '-U', 'postgres', '--pwfile', pwFile, '-E', 'UTF8', '--locale=C',
      '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync',
    ]);
    rmSync(pwFile, { force: true });
    writeOwned(join(dataDir, 'pg_hba.conf'), opts.hba ?? HBA_CONF);
    const ssl: Record<string, string> = {};
    if (opts.ssl) {
      writeOwned(join(dataDir, 'server.crt'), opts.ssl.cert);
      writeOwned(join(dataDir, 'server.key'), opts.ssl.key);
      Object.assign(ssl, { ssl: 'on', ssl_cert_file: 'server.crt', ssl_key_file: 'server.key' });
    }
    appendFileSync(join(dataDir, 'postgresql.conf'), "\ninclude 'weir-testkit.conf'\n");
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      writeOwned(
        join(dataDir, 'weir-testkit.conf'),
        settingsFile({
          ...DEFAULT_SETTINGS,
          ...ssl,
          ...opts.settings,
          listen_addresses: '127.0.0.1',
          port: String(port),
          unix_socket_directories: base,
        }),
      );
      const cluster = new ThrowawayCluster(base, binDir, port, superPassword);
      try {
        await cluster.start();
        return cluster;
      } catch (cause) {
        runPgSync(pgBin(binDir, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate']);
        const log = logTail(cluster.logFile);
        if (attempt < 3 && ADDRESS_IN_USE.test(log)) continue;
        throw new TestkitError('WEIR_E_TESTKIT_CLUSTER_START', `PostgreSQL did not start; server log:\n${log}`, { cause });
      }
    }
  } catch (error) {
    rmSync(base, { recursive: true, force: true });
    throw error;
  }
}
