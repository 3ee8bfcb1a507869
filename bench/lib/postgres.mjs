// A throwaway PostgreSQL 15 cluster for the bench: 127.0.0.1 only, random port,
// md5 for TCP, trust on the local socket, role/db `bench`, pgbench -i.
import { chownSync, mkdirSync, appendFileSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { freePort, isRoot, log, run, sleep, spawnTracked, stopProcess, tail } from './util.mjs';

export const PG_BIN = process.env.BENCH_PG_BIN ?? '/usr/lib/postgresql/15/bin';
export const BENCH_USER = 'bench';
export const BENCH_PASSWORD = 'bench';
export const BENCH_DB = 'bench';

const bin = (name) => path.join(PG_BIN, name);

function postgresIds() {
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('running as root needs an OS user `postgres` (none found)');
  return { uid: Number(r.stdout), gid: Number(g.stdout) };
}

/** Make a path owned by the OS user postgres (when we are root). */
export function giveToPostgres(p) {
  if (!isRoot) return;
  const { uid, gid } = postgresIds();
  chownSync(p, uid, gid);
}

/**
 * Start PostgreSQL in `dir` (a fresh directory). Returns
 * { port, host, socketDir, proc, psql(sql, db?), stop() }.
 */
export async function startPostgres(dir, { scale = 10 } = {}) {
  if (!existsSync(bin('postgres'))) throw new Error(`PostgreSQL binaries not found in ${PG_BIN}`);
  mkdirSync(dir, { recursive: true });
  giveToPostgres(dir);
  const data = path.join(dir, 'data');
  const port = await freePort();
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };

  log(`initdb in ${data}`);
  const init = await run(
    bin('initdb'),
    ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=md5', '-E', 'UTF8', '--no-instructions'],
    { asPostgres: true, cwd: dir, env, timeoutMs: 120_000, name: 'initdb' },
  );
  if (init.code !== 0) throw new Error(`initdb failed:\n${tail(init.stderr || init.stdout)}`);

  appendFileSync(
    path.join(data, 'postgresql.conf'),
    [
      '',
      '# weir bench',
      `listen_addresses = '127.0.0.1'`,
      `port = ${port}`,
      `unix_socket_directories = '${dir}'`,
      'max_connections = 700',
      'shared_buffers = 128MB',
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      `password_encryption = 'md5'`,
      'logging_collector = off',
      `log_min_messages = warning`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(data, 'pg_hba.conf'),
    ['local all all trust', 'host all all 127.0.0.1/32 md5', ''].join('\n'),
  );
  giveToPostgres(path.join(data, 'pg_hba.conf'));

  const proc = spawnTracked(bin('postgres'), ['-D', data], {
    asPostgres: true,
    cwd: dir,
    env,
    name: 'postgres',
    stopSignal: 'SIGINT', // fast shutdown
  });

  const psql = async (sql, db = 'postgres') => {
    const r = await run(bin('psql'), ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-Atqc', sql], {
      env,
      timeoutMs: 60_000,
      name: 'psql',
    });
    if (r.code !== 0) throw new Error(`psql failed (${sql}): ${r.stderr.trim()}`);
    return r.stdout.trim();
  };

  // Wait until it accepts connections.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`postgres exited at startup:\n${tail(proc.stderr)}`);
    const r = await run(bin('pg_isready'), ['-h', dir, '-p', String(port), '-q'], { env, timeoutMs: 10_000, name: 'pg_isready' });
    if (r.code === 0) break;
    if (Date.now() > deadline) throw new Error(`postgres did not become ready:\n${tail(proc.stderr)}`);
    await sleep(200);
  }
  const version = await psql('SHOW server_version');
  log(`PostgreSQL ${version} on 127.0.0.1:${port}`);

  await psql(`CREATE ROLE ${BENCH_USER} LOGIN PASSWORD '${BENCH_PASSWORD}'`);
  await psql(`CREATE DATABASE ${BENCH_DB} OWNER ${BENCH_USER}`);

  log(`pgbench -i -s ${scale}`);
  const ini = await run(
    bin('pgbench'),
    ['-i', '-q', '-s', String(scale), '-h', '127.0.0.1', '-p', String(port), '-U', BENCH_USER, BENCH_DB],
    { env: { ...env, PGPASSWORD: BENCH_PASSWORD }, timeoutMs: 600_000, name: 'pgbench-init' },
  );
  if (ini.code !== 0) throw new Error(`pgbench -i failed:\n${tail(ini.stderr)}`);
  await psql('VACUUM ANALYZE', BENCH_DB);
  await psql('CHECKPOINT');

  return {
    host: '127.0.0.1',
    port,
    socketDir: dir,
    version,
    proc,
    psql,
    stop: () => stopProcess(proc, 15_000),
  };
}
