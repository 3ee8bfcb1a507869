#!/usr/bin/env node
// general.workers: tps and CPU of weir with 1 and 2 workers next to PgBouncer (pgbench -S -c 40
// against one PostgreSQL), how SO_REUSEPORT spreads 200 connections over the workers, and idle
// memory per client with 1 and 2 workers. Bounded: about 2 minutes. See bench/README.md.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { cleanup, cpuSeconds, installCleanupHandlers, log, trackTempDir } from './lib/util.mjs';
import { startPostgres, giveToPostgres, BENCH_DB, BENCH_PASSWORD, BENCH_USER } from './lib/postgres.mjs';
import { ensurePgbouncer, startPgbouncer } from './lib/pgbouncer.mjs';
import { startWeirOnce } from './lib/weir.mjs';
import { runPgbench } from './lib/pgbench.mjs';
import { measureIdleRss } from './lib/idle.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 40);
const IDLE = Number(process.env.BENCH_IDLE_CLIENTS ?? 1000);

/** 200 connections held open at once; SHOW CLIENTS says which worker has each. */
async function spread(port, n = 200) {
  const clients = [];
  for (let i = 0; i < n; i++) {
    const c = new pg.Client({ host: '127.0.0.1', port, user: BENCH_USER, password: BENCH_PASSWORD, database: BENCH_DB });
    c.on('error', () => {});
    await c.connect();
    clients.push(c);
  }
  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'admin', password: 'admin', database: 'weir' });
  await admin.connect();
  const rows = (await admin.query('SHOW CLIENTS')).rows.filter((r) => r.user === BENCH_USER);
  await admin.end();
  await Promise.all(clients.map((c) => c.end().catch(() => {})));
  const per = {};
  for (const r of rows) per[r.worker] = (per[r.worker] ?? 0) + 1;
  return per;
}

async function measure(name, target) {
  const pid = target.proc.child.pid;
  await runPgbench({ port: target.port, clients: CLIENTS, mode: 'simple', seconds: 2 }); // warm up
  const cpu0 = cpuSeconds(pid);
  const t0 = Date.now();
  const r = await runPgbench({ port: target.port, clients: CLIENTS, mode: 'simple', seconds: SECONDS });
  const cpu = (cpuSeconds(pid) - cpu0) / ((Date.now() - t0) / 1000);
  log(`${name}: tps ${r.tps?.toFixed(0)}, pooler CPU ${(cpu * 100).toFixed(0)}% of one core`);
  return { name, tps: r.tps, cpu };
}

installCleanupHandlers();
const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-bench-workers-'));
trackTempDir(dir);
giveToPostgres(dir);
const results = [];
try {
  const pgs = await startPostgres(path.join(dir, 'pg'), { scale: 10 });
  for (const workers of [1, 2]) {
    const w = await startWeirOnce(path.join(dir, `weir${workers}`), pgs, { auth: 'md5', plugins: false, workers, poolSize: 40 });
    const m = await measure(`weir workers=${workers}`, w);
    if (workers > 1) m.spread = await spread(w.port);
    const idle = await measureIdleRss({ name: m.name, port: w.port, proc: w.proc }, IDLE);
    m.idleKiB = idle.kibPerClient;
    results.push(m);
    await w.stop();
  }
  if (await ensurePgbouncer().then(() => true, () => false)) {
    const b = await startPgbouncer(path.join(dir, 'pgb'), pgs, { poolSize: 40 });
    results.push(await measure('pgbouncer', b));
    await b.stop();
  }
  console.log(`\n| target | tps (pgbench -S -c ${CLIENTS}, ${SECONDS}s) | pooler CPU (cores) | idle KiB/client (${IDLE}) | clients per worker (200) |`);
  console.log('|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.name} | ${r.tps?.toFixed(0)} | ${r.cpu.toFixed(2)} | ${r.idleKiB?.toFixed?.(1) ?? '–'} | ${r.spread ? JSON.stringify(r.spread) : '–'} |`);
  }
  console.log(`\n${os.availableParallelism()} cores, shared (other work may run on this machine while it measures).`);
} finally {
  await cleanup();
}
