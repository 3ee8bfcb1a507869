#!/usr/bin/env node
// `npm start`: an embedded PostgreSQL with database `appdb` and user `app`, and weir in
// front of it on 127.0.0.1:6432. Ctrl-C stops weir, then PostgreSQL, and exits 0.
import { rmSync } from 'node:fs';
import { writeRuntimeConfig } from './lib/config.mjs';
import { freePort } from './lib/free-port.mjs';
import { makeRunDir } from './lib/paths.mjs';
import { embeddedInitdb, unreachableAsRoot } from './lib/reach.mjs';
import { startPostgres } from './lib/postgres.mjs';
import { startWeir, stopWeir, weirCli } from './lib/weir.mjs';

const say = (line) => process.stderr.write(`[example] ${line}\n`);
const pgLog = (chunk) => {
  for (const line of String(chunk).trimEnd().split('\n')) if (line) process.stderr.write(`[postgres] ${line}\n`);
};

let postgres, weir, runDir, configFile, reconfigure, stopping;

async function startup() {
  weirCli(); // fail fast, before PostgreSQL, if weir is not built
  const port = Number(process.env.WEIR_PORT ?? 6432);
  await freePort(port).catch(() => {
    throw new Error(`WEIR_E_EXAMPLE_PORT_IN_USE: port ${port} is taken; run with WEIR_PORT=<another port>`);
  });
  runDir = makeRunDir();
  say(`starting embedded PostgreSQL in ${runDir}`);
  postgres = await startPostgres(runDir, { log: pgLog });
  if (stopping) return;
  say(`PostgreSQL is up on 127.0.0.1:${postgres.port}; database appdb, user app`);
  const configure = () => writeRuntimeConfig(runDir, { port, serverPort: postgres.port });
  configFile = configure();
  reconfigure = configure;
  say(`starting weir with ${configFile}`);
  weir = startWeir(configFile);
  await weir.listening;
  weir.exited.then(({ code, signal }) => {
    if (!stopping) shutdown(`weir exited on its own (code ${code}, signal ${signal})`, 1);
  });
  const url = `postgres://app:app@127.0.0.1:${port}/appdb`;
  process.stderr.write(
    [
      '',
      'weir is running. Connect with:',
      '',
      `    psql "${url}"`,
      '',
      'Benchmark it (pgbench comes with the PostgreSQL client tools):',
      '',
      `    PGPASSWORD=app pgbench -i -h 127.0.0.1 -p ${port} -U app appdb`,
      `    PGPASSWORD=app pgbench -c 40 -j 4 -T 10 -M prepared -h 127.0.0.1 -p ${port} -U app appdb`,
      `    PGPASSWORD=app pgbench -c 40 -j 4 -T 10 -S -M prepared -h 127.0.0.1 -p ${port} -U app appdb   # select-only`,
      '',
      `Admin console: psql "postgres://admin:admin@127.0.0.1:${port}/weir" -c "SHOW POOLS"`,
      'Press Ctrl-C to stop weir and PostgreSQL.',
      '',
    ].join('\n'),
  );
}

async function shutdown(reason, exitCode) {
  if (stopping) return;
  stopping = true;
  say(`${reason}; shutting down`);
  try {
    if (weir) {
      const { code, signal } = await stopWeir(weir);
      say(`weir stopped (code ${code}${signal ? `, signal ${signal}` : ''})`);
    }
    if (postgres) {
      await postgres.stop();
      say('PostgreSQL stopped');
    }
    if (runDir) rmSync(runDir, { recursive: true, force: true });
  } catch (error) {
    say(`shutdown failed: ${error?.stack ?? error}`);
    exitCode = 1;
  }
  process.exit(exitCode);
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => shutdown(`got ${signal}`, 0));
// SIGHUP: regenerate the runtime config from weir.yaml and have weir reload it.
process.on('SIGHUP', () => {
  if (!weir || stopping) return;
  reconfigure();
  weir.child.kill('SIGHUP');
});

// As root with the checkout in a private folder (a clone in /root), say so in one line and stop.
const unreachable = unreachableAsRoot(await embeddedInitdb());
if (unreachable) {
  say(unreachable);
  process.exit(1);
}

startup().catch((error) => {
  say(error?.message ?? String(error));
  shutdown('startup failed', 1);
});
