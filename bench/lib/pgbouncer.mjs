// PgBouncer as a bench target: installed from apt when missing, run as OS user
// postgres with its own ini (transaction mode, pool 40, md5 userlist).
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { commandExists, tcpProbe, freePort, isRoot, log, run, sleep, spawnTracked, stopProcess, tail } from './util.mjs';
import { giveToPostgres, BENCH_DB, BENCH_PASSWORD, BENCH_USER } from './postgres.mjs';
import { md5hex } from './pgwire.mjs';

/** Make sure a pgbouncer binary exists. Returns { ok, reason }. */
export async function ensurePgbouncer() {
  if (commandExists('pgbouncer')) return { ok: true };
  if (!isRoot) return { ok: false, reason: 'pgbouncer is not installed and the harness is not root (apt-get install -y pgbouncer)' };
  if (!commandExists('apt-get')) return { ok: false, reason: 'pgbouncer is not installed and apt-get is not available' };
  log('pgbouncer missing: apt-get install -y pgbouncer');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = await run('apt-get', ['install', '-y', 'pgbouncer'], { env, timeoutMs: 300_000, name: 'apt-get' });
  if (r.code !== 0) {
    log('apt-get install failed; trying apt-get update first');
    await run('apt-get', ['update'], { env, timeoutMs: 300_000, name: 'apt-get' });
    r = await run('apt-get', ['install', '-y', 'pgbouncer'], { env, timeoutMs: 300_000, name: 'apt-get' });
  }
  if (r.code !== 0 || !commandExists('pgbouncer')) {
    return { ok: false, reason: `apt-get install -y pgbouncer failed: ${tail(r.stderr || r.stdout, 3).replace(/\n/g, ' | ')}` };
  }
  return { ok: true };
}

export async function pgbouncerVersion() {
  const r = await run('pgbouncer', ['--version'], { timeoutMs: 10_000, name: 'pgbouncer-version' });
  const m = /PgBouncer\s+(\S+)/i.exec(r.stdout + r.stderr);
  return m ? m[1] : 'unknown';
}

/** Start PgBouncer in `dir` in front of PostgreSQL `pg`. Returns { port, proc, version, stop() }. */
export async function startPgbouncer(dir, pg, { poolSize = 40, maxClientConn = 12000 } = {}) {
  mkdirSync(dir, { recursive: true });
  giveToPostgres(dir);
  const port = await freePort();
  const version = await pgbouncerVersion();
  const userlist = path.join(dir, 'userlist.txt');
  const ini = path.join(dir, 'pgbouncer.ini');
  const logfile = path.join(dir, 'pgbouncer.log');
  writeFileSync(
    userlist,
    [`"${BENCH_USER}" "md5${md5hex(BENCH_PASSWORD + BENCH_USER)}"`, `"admin" "admin"`, ''].join('\n'),
  );
  writeFileSync(
    ini,
    [
      '[databases]',
      `${BENCH_DB} = host=127.0.0.1 port=${pg.port} dbname=${BENCH_DB}`,
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'listen_backlog = 4096',
      'auth_type = md5',
      `auth_file = ${userlist}`,
      'admin_users = admin',
      'stats_users = admin',
      'pool_mode = transaction',
      `default_pool_size = ${poolSize}`,
      'min_pool_size = 0',
      'reserve_pool_size = 0',
      `max_client_conn = ${maxClientConn}`,
      'max_db_connections = 0',
      'ignore_startup_parameters = extra_float_digits,options',
      'query_wait_timeout = 30',
      'log_connections = 0',
      'log_disconnections = 0',
      'log_pooler_errors = 1',
      `logfile = ${logfile}`,
      `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
      // PgBouncer >= 1.21 can keep protocol-level prepared statements in transaction mode.
      ...(versionAtLeast(version, 1, 21) ? ['max_prepared_statements = 1000'] : []),
      '',
    ].join('\n'),
  );
  for (const f of [userlist, ini]) giveToPostgres(f);

  const proc = spawnTracked('pgbouncer', [ini], {
    asPostgres: true,
    nofile: true,
    cwd: dir,
    name: 'pgbouncer',
    stopSignal: 'SIGTERM', // immediate shutdown
  });

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.child.exitCode !== null || proc.spawnError) {
      const lg = existsSync(logfile) ? readFileSync(logfile, 'utf8') : '';
      throw new Error(`pgbouncer exited at startup:\n${tail(proc.stderr + lg)}`);
    }
    if (await tcpProbe(port)) break;
    if (Date.now() > deadline) throw new Error(`pgbouncer did not start listening:\n${tail(proc.stderr)}`);
    await sleep(100);
  }
  log(`PgBouncer ${version} on 127.0.0.1:${port} (pid ${proc.child.pid})`);
  return { port, proc, version, logfile, stop: () => stopProcess(proc, 8000) };
}

function versionAtLeast(v, major, minor) {
  const m = /^(\d+)\.(\d+)/.exec(v);
  if (!m) return false;
  return Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor);
}
