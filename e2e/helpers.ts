/**
 * Shared helpers for the e2e suites: a throwaway PostgreSQL cluster plus a weir process in
 * front of it, psql/pgbench runners, and server-connection counting via pg_stat_activity.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import { startCluster, startWeir, type Cluster, type WeirInstance } from '@weir/testkit';

export type { Cluster, WeirInstance };

export const DB = 'appdb';

function pgProgram(name: string): string {
  for (const p of [`/usr/bin/${name}`, `/usr/lib/postgresql/15/bin/${name}`]) if (existsSync(p)) return p;
  return name;
}
export const PSQL = pgProgram('psql');
export const PGBENCH = pgProgram('pgbench');

/** The roles every stack has; each is configured in weir with a different kind of password. */
export const USERS = {
  /** stored md5 in PostgreSQL; weir config holds the `md5…` hash (passthrough). */
  md5: { name: 'app', password: 'secret' },
  /** stored SCRAM in PostgreSQL; weir config holds the plaintext (clients are asked for SCRAM). */
  plain: { name: 'plainuser', password: 'plain-pw' },
  /** stored SCRAM in PostgreSQL; weir config holds the SCRAM verifier (ClientKey passthrough). */
  scram: { name: 'scramuser', password: 'scram-pw' },
} as const;

export interface StackOptions {
  name?: string;
  poolMode?: 'transaction' | 'session';
  poolSize?: number;
  /** Keys under `general:` over the defaults, e.g. `{ query_wait_timeout: '30s' }`. */
  general?: Record<string, string | number>;
  clusterSettings?: Record<string, string>;
  /** pg_hba.conf and TLS for the cluster (see @weir/testkit startCluster). */
  clusterHba?: string;
  clusterSsl?: { cert: string; key: string };
}

export interface Stack {
  cluster: Cluster;
  weir: WeirInstance;
  /** The YAML handed to weir (with `${PORT}` still in it). */
  config: string;
  /** A postgres:// URL to weir (or to another weir on `port`). */
  url(user?: { name: string; password: string }, database?: string, port?: number): string;
  /** pg.Client connection options to weir (or to another weir on `port`). */
  conn(user?: { name: string; password: string }, database?: string, port?: number): pg.ClientConfig;
  /**
   * Another weir process on the same cluster and users, e.g. in a different pool mode, or with
   * `plugins` YAML added. Stopped by `stop()`.
   */
  startAnotherWeir(opts: { poolMode?: 'transaction' | 'session'; poolSize?: number;
    general?: Record<string, string | number>; plugins?: string }): Promise<WeirInstance>;
  /** Idempotent; stops weir then the cluster, never throws. */
  stop(): Promise<void>;
}

export function weirConfig(opts: {
  clusterPort: number;
  poolMode: string;
  poolSize: number;
  users: { username: string; password: string }[];
  general?: Record<string, string | number>;
}): string {
  const general: Record<string, string | number> = {
    host: '127.0.0.1',
    port: '${PORT}',
    admin_user: 'admin',
    admin_password: 'admin',
    query_wait_timeout: '5s',
    shutdown_timeout: '10s',
    log_level: 'info',
    ...opts.general,
  };
  const users = opts.users
    .map((u) => `      - username: ${u.username}\n        password: ${JSON.stringify(u.password)}`)
    .join('\n');
  return `general:
${Object.entries(general).map(([k, v]) => `  ${k}: ${v}`).join('\n')}
pools:
  ${DB}:
    server_host: 127.0.0.1
    server_port: ${opts.clusterPort}
    pool_mode: ${opts.poolMode}
    pool_size: ${opts.poolSize}
    users:
${users}
`;
}

/**
 * Start a cluster with database `appdb` (owner `app`) and the three USERS, then weir in front of
 * it with one pool `appdb` holding those users. On any failure everything started is stopped.
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  let cluster: Cluster | undefined;
  let weir: WeirInstance | undefined;
  try {
    cluster = await startCluster({ name: opts.name ?? 'e2e', settings: opts.clusterSettings, hba: opts.clusterHba, ssl: opts.clusterSsl });
    await cluster.createRole(USERS.md5.name, USERS.md5.password, { method: 'md5' });
    await cluster.createRole(USERS.plain.name, USERS.plain.password, { method: 'scram-sha-256' });
    await cluster.createRole(USERS.scram.name, USERS.scram.password, { method: 'scram-sha-256' });
    await cluster.createDatabase(DB, USERS.md5.name);
    await cluster.query(
      `GRANT ALL ON SCHEMA public TO ${USERS.plain.name}, ${USERS.scram.name}`,
      [],
      { database: DB },
    );
    const stored = await cluster.query<{ rolname: string; rolpassword: string }>(
      `SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1)`,
      [[USERS.md5.name, USERS.scram.name]],
    );
    const hash = (n: string) => stored.find((r) => r.rolname === n)!.rolpassword;
    if (!hash(USERS.md5.name).startsWith('md5')) throw new Error('md5 role not stored as md5');
    if (!hash(USERS.scram.name).startsWith('SCRAM-SHA-256$')) throw new Error('scram role not stored as SCRAM');
    const users = [
      { username: USERS.md5.name, password: hash(USERS.md5.name) },
      { username: USERS.plain.name, password: USERS.plain.password },
      { username: USERS.scram.name, password: hash(USERS.scram.name) },
    ];
    const config = weirConfig({
      clusterPort: cluster.port,
      poolMode: opts.poolMode ?? 'transaction',
      poolSize: opts.poolSize ?? 4,
      general: opts.general,
      users,
    });
    weir = await startWeir({ config });
    const w = weir;
    const c = cluster;
    const others: WeirInstance[] = [];
    let stopping: Promise<void> | undefined;
    return {
      cluster: c,
      weir: w,
      config,
      async startAnotherWeir(o) {
        const yaml = weirConfig({
          clusterPort: c.port,
          poolMode: o.poolMode ?? opts.poolMode ?? 'transaction',
          poolSize: o.poolSize ?? opts.poolSize ?? 4,
          general: { ...opts.general, ...o.general },
          users,
        });
        const other = await startWeir({ config: o.plugins ? yaml.replace('\npools:\n', `\n${o.plugins.trimEnd()}\npools:\n`) : yaml });
        others.push(other);
        return other;
      },
      url: (user = USERS.md5, database = DB, port = w.port) =>
        `postgres://${encodeURIComponent(user.name)}:${encodeURIComponent(user.password)}@127.0.0.1:${port}/${database}`,
      conn: (user = USERS.md5, database = DB, port = w.port) => ({
        host: '127.0.0.1',
        port,
        user: user.name,
        password: user.password,
        database,
      }),
      stop: () =>
        (stopping ??= (async () => {
          await Promise.all([w, ...others].map((x) => x.stop().catch(() => {})));
          await c.stop().catch(() => {});
        })()),
    };
  } catch (e) {
    await weir?.stop().catch(() => {});
    await cluster?.stop().catch(() => {});
    throw e;
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Kill with SIGKILL after this long (a safety net, never an assertion). */
  timeoutMs?: number;
  /** Called with the child once spawned (to send signals, …). */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void;
}

/** Run a program; resolve with exit code and output (never rejects for a non-zero exit). */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, PGCONNECT_TIMEOUT: '20', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
    opts.onSpawn?.(child);
  });
}

/** psql -X -At -v ON_ERROR_STOP=1 against weir. */
export function psql(
  port: number,
  opts: { user: string; password: string; database?: string; sql?: string; args?: string[] } & RunOptions,
): Promise<RunResult> {
  const args = ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', opts.user,
    '-d', opts.database ?? DB];
  if (opts.sql !== undefined) args.push('-c', opts.sql);
  args.push(...(opts.args ?? []));
  return run(PSQL, args, { ...opts, env: { PGPASSWORD: opts.password, PGSSLMODE: 'disable', ...opts.env } });
}

/** pgbench against weir (or anything). */
export function pgbench(
  port: number,
  opts: { user: string; password: string; database?: string; args: string[] } & RunOptions,
): Promise<RunResult> {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-U', opts.user, ...opts.args, opts.database ?? DB];
  return run(PGBENCH, args, { ...opts, env: { PGPASSWORD: opts.password, PGSSLMODE: 'disable', ...opts.env } });
}

/**
 * A superuser connection straight to the cluster (database postgres) for polling
 * pg_stat_activity: client backends of `database`, not counting the poller itself.
 */
export async function serverConnectionCounter(cluster: Cluster): Promise<{
  count(database?: string): Promise<number>;
  close(): Promise<void>;
}> {
  const client = new pg.Client({
    host: cluster.host,
    port: cluster.port,
    user: cluster.superuser,
    password: cluster.superPassword,
    database: 'postgres',
  });
  await client.connect();
  return {
    async count(database = DB) {
      const r = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
        [database],
      );
      return r.rows[0]!.n;
    },
    close: () => client.end().catch(() => {}),
  };
}

/** Run one query through weir with a fresh pg.Client. */
export async function queryOnce<R extends pg.QueryResultRow = any>(
  config: pg.ClientConfig,
  sql: string,
  params?: unknown[],
): Promise<R[]> {
  const client = new pg.Client({ connectionTimeoutMillis: 20_000, ...config });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<R>(sql, params as any[])).rows;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Expect a promise to reject; return the error (for code checks). */
export async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection, but it resolved');
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Open a raw TCP socket to weir. */
export function rawSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/**
 * Send `bytes` (or nothing), optionally half-close, and collect what comes back until the server
 * closes the socket or `waitMs` passes. `closed` says whether the server closed it.
 */
export function probe(
  port: number,
  bytes: Buffer | Buffer[],
  opts: { waitMs?: number; end?: boolean } = {},
): Promise<{ data: Buffer; closed: boolean; error?: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host: '127.0.0.1', port });
    let finished = false;
    const finish = (closed: boolean, error?: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ data: Buffer.concat(chunks), closed, error });
    };
    const timer = setTimeout(() => finish(false), opts.waitMs ?? 5_000);
    s.on('data', (d) => chunks.push(d));
    s.on('error', (e) => finish(true, (e as NodeJS.ErrnoException).code ?? e.message));
    s.on('close', () => finish(true));
    s.on('connect', () => {
      for (const b of Array.isArray(bytes) ? bytes : [bytes]) s.write(b);
      if (opts.end) s.end();
    });
  });
}

/** Parse the ErrorResponse fields out of raw bytes from the server (first 'E' message), if any. */
export function parseErrorResponse(data: Buffer): Record<string, string> | undefined {
  let off = 0;
  while (off + 5 <= data.length) {
    const type = String.fromCharCode(data[off]!);
    const len = data.readInt32BE(off + 1);
    if (len < 4 || off + 1 + len > data.length) return undefined;
    if (type === 'E') {
      const fields: Record<string, string> = {};
      let p = off + 5;
      const end = off + 1 + len;
      while (p < end && data[p] !== 0) {
        const code = String.fromCharCode(data[p]!);
        const z = data.indexOf(0, p + 1);
        if (z < 0 || z >= end) break;
        fields[code] = data.toString('utf8', p + 1, z);
        p = z + 1;
      }
      return fields;
    }
    off += 1 + len;
  }
  return undefined;
}

/** A v3 StartupMessage. */
export function startupMessage(params: Record<string, string>, version = 196608): Buffer {
  const body = Buffer.concat([
    ...Object.entries(params).flatMap(([k, v]) => [Buffer.from(`${k}\0${v}\0`)]),
    Buffer.from([0]),
  ]);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(version, 4);
  return Buffer.concat([head, body]);
}

/** Fetch SHOW <what> from the admin console as row objects. */
export async function adminShow(port: number, what: string): Promise<{ columns: string[]; rows: any[] }> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'admin', password: 'admin', database: 'weir' });
  client.on('error', () => {});
  await client.connect();
  try {
    const r = await client.query(`SHOW ${what}`);
    return { columns: r.fields.map((f) => f.name), rows: r.rows };
  } finally {
    await client.end().catch(() => {});
  }
}

/** Log in over a raw socket as an md5-hash user (md5 challenge); resolve after ReadyForQuery. */
export interface RawSession {
  socket: net.Socket;
  /** Wait up to `waitMs` for any bytes (or close); return all unread bytes so far and whether it closed. */
  next(waitMs: number): Promise<{ data: Buffer; closed: boolean }>;
  /** Read one whole message, waiting up to `waitMs`. */
  readMsg(waitMs?: number): Promise<{ type: string; body: Buffer }>;
}

export async function rawLogin(
  port: number,
  user: { name: string; password: string } = USERS.md5,
  database = DB,
  opts: { negotiate?: 'ssl' | 'gss' } = {},
): Promise<RawSession> {
  const socket = await rawSocket(port);
  let buf = Buffer.alloc(0);
  let closed = false;
  const listeners: (() => void)[] = [];
  socket.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    listeners.splice(0).forEach((f) => f());
  });
  socket.on('close', () => {
    closed = true;
    listeners.splice(0).forEach((f) => f());
  });
  socket.on('error', () => {});
  const waitFor = async (pred: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!pred() && !closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        listeners.push(r);
        setTimeout(r, 100);
      });
    }
  };
  /** Read one whole message, waiting up to 10 s. */
  const readMsg = async (waitMs = 10_000): Promise<{ type: string; body: Buffer }> => {
    await waitFor(() => buf.length >= 5 && buf.length >= 1 + buf.readInt32BE(1), waitMs);
    if (!(buf.length >= 5 && buf.length >= 1 + buf.readInt32BE(1))) throw new Error(`no message (closed=${closed})`);
    const len = buf.readInt32BE(1);
    const msg = { type: String.fromCharCode(buf[0]!), body: buf.subarray(5, 1 + len) };
    buf = buf.subarray(1 + len);
    return msg;
  };
  if (opts.negotiate) {
    // SSLRequest / GSSENCRequest first: expect the single byte 'N', then go on in plain text.
    const req = Buffer.alloc(8);
    req.writeInt32BE(8, 0);
    req.writeInt32BE(opts.negotiate === 'ssl' ? 80877103 : 80877104, 4);
    socket.write(req);
    await waitFor(() => buf.length >= 1, 10_000);
    if (buf.length < 1 || buf[0] !== 'N'.charCodeAt(0)) {
      throw new Error(`expected 'N' to ${opts.negotiate} request, got ${buf.subarray(0, 16).toString('hex')} (closed=${closed})`);
    }
    buf = buf.subarray(1);
  }
  socket.write(startupMessage({ user: user.name, database }));
  for (;;) {
    const m = await readMsg();
    if (m.type === 'R') {
      const code = m.body.readInt32BE(0);
      if (code === 0) continue;
      if (code !== 5) throw new Error(`expected an md5 challenge for an md5-hash user, got auth code ${code}`);
      const salt = m.body.subarray(4, 8);
      const inner = createHash('md5').update(user.password + user.name).digest('hex');
      const outer = 'md5' + createHash('md5').update(Buffer.concat([Buffer.from(inner), salt])).digest('hex');
      const body = Buffer.from(outer + '\0');
      const head = Buffer.alloc(5);
      head.write('p', 0);
      head.writeInt32BE(4 + body.length, 1);
      socket.write(Buffer.concat([head, body]));
    } else if (m.type === 'E') {
      throw new Error(`login failed: ${JSON.stringify(parseErrorResponse(Buffer.concat([Buffer.from('E'), Buffer.alloc(4), m.body])))}`);
    } else if (m.type === 'Z') {
      break;
    }
  }
  return {
    socket,
    readMsg,
    next: async (waitMs: number) => {
      await waitFor(() => buf.length > 0, waitMs);
      await sleep(50);
      const data = buf;
      buf = Buffer.alloc(0);
      return { data, closed };
    },
  };
}


/** Read whole backend messages from a raw socket. */
function backendMessages(socket: net.Socket): (waitMs?: number) => Promise<{ type: string; body: Buffer }> {
  let buf = Buffer.alloc(0);
  let wake: (() => void) | null = null;
  let closed = false;
  socket.on('data', (d) => { buf = Buffer.concat([buf, d]); wake?.(); });
  socket.on('close', () => { closed = true; wake?.(); });
  socket.on('error', () => {});
  return async (waitMs = 10_000) => {
    const deadline = Date.now() + waitMs;
    while (!(buf.length >= 5 && buf.length >= 1 + buf.readInt32BE(1))) {
      if (closed || Date.now() > deadline) throw new Error(`no message (closed=${closed})`);
      await new Promise<void>((r) => { wake = r; setTimeout(r, 100); });
    }
    const len = buf.readInt32BE(1);
    const m = { type: String.fromCharCode(buf[0]!), body: Buffer.from(buf.subarray(5, 1 + len)) };
    buf = buf.subarray(1 + len);
    return m;
  };
}

export interface LoginExchange {
  /** 'md5' or 'scram' — what the first authentication request asked for. */
  method: string;
  /** SCRAM: the salt (base64) and iteration count of the server-first-message. */
  salt?: string;
  iterations?: number;
  /** The ErrorResponse fields after a wrong password. */
  error: Record<string, string> | undefined;
}

/** Log in as `user` with a wrong password, answering whichever exchange weir starts. */
export async function wrongPassword(port: number, user: string, database: string): Promise<LoginExchange> {
  const socket = await rawSocket(port);
  const read = backendMessages(socket);
  try {
    socket.write(startupMessage({ user, database }));
    const first = await read();
    if (first.type !== 'R') throw new Error(`expected an authentication request, got '${first.type}'`);
    const code = first.body.readInt32BE(0);
    const out: LoginExchange = { method: code === 5 ? 'md5' : code === 10 ? 'scram' : `auth code ${code}`, error: undefined };
    if (code === 5) {
      socket.write(frontendMessage('p', 'md500000000000000000000000000000000\0'));
    } else if (code === 10) {
      const clientFirst = Buffer.from('n,,n=,r=abcdefghijklmnopqrstuvwx');
      const len = Buffer.alloc(4);
      len.writeInt32BE(clientFirst.length, 0);
      socket.write(frontendMessage('p', Buffer.concat([Buffer.from('SCRAM-SHA-256\0'), len, clientFirst])));
      const cont = await read();
      if (cont.type !== 'R' || cont.body.readInt32BE(0) !== 11) throw new Error(`expected AuthenticationSASLContinue, got '${cont.type}'`);
      const attrs = Object.fromEntries(cont.body.subarray(4).toString().split(',').map((a) => [a[0], a.slice(2)]));
      out.salt = attrs.s;
      out.iterations = Number(attrs.i);
      socket.write(frontendMessage('p', `c=biws,r=${attrs.r},p=${Buffer.alloc(32, 7).toString('base64')}`));
    }
    const err = await read();
    if (err.type !== 'E') throw new Error(`expected an ErrorResponse after a wrong password, got '${err.type}'`);
    out.error = parseErrorResponse(frontendMessage('E', err.body));
    return out;
  } finally {
    socket.destroy();
  }
}

/** A frontend message: type byte, length, body. */
export function frontendMessage(type: string, body: Buffer | string = Buffer.alloc(0)): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const head = Buffer.alloc(5);
  head.write(type, 0);
  head.writeInt32BE(4 + b.length, 1);
  return Buffer.concat([head, b]);
}

/** A simple Query message. */
export const queryMessage = (sql: string) => frontendMessage('Q', `${sql}\0`);
