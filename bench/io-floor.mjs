#!/usr/bin/env node
// The I/O floor, both paths in one run: pgbench -S through a bare 1:1 pipe on node:net and on
// @weir/io (linked in C), next to PgBouncer and direct PostgreSQL. No pooling, so this is what
// each I/O layer costs per transaction, not what weir costs. Part of `npm run bench`.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanup, cpuSeconds, freePort, installCleanupHandlers, log, spawnTracked, trackTempDir } from './lib/util.mjs';
import { startPostgres, giveToPostgres } from './lib/postgres.mjs';
import { ensurePgbouncer, startPgbouncer } from './lib/pgbouncer.mjs';
import { runPgbench } from './lib/pgbench.mjs';

// The native pipe frames the server's bytes from the first one: no SSLRequest (its answer is one unframed byte).
process.env.PGSSLMODE = 'disable';
const here = path.dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? (process.env.BENCH_QUICK ? 5 : 15));
const clients = (process.env.BENCH_FLOOR_CLIENTS ?? '40,120').split(',').map(Number);

async function startPipe(mode, pgPort) {
  const port = await freePort();
  const proc = spawnTracked(process.execPath, [path.join(here, 'lib', 'pipe.mjs'), mode, String(port), String(pgPort)], { nofile: true, name: `pipe-${mode}` });
  for (let i = 0; i < 200 && !proc.stdout.includes('listening'); i++) {
    if (proc.child.exitCode !== null) throw new Error(`pipe-${mode} exited: ${proc.stderr.trim()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, proc };
}

async function main() {
  installCleanupHandlers();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'weir-floor-'));
  trackTempDir(tmp);
  giveToPostgres(tmp);
  const pg = await startPostgres(path.join(tmp, 'pg'), { scale: 10 });
  const targets = [{ name: 'direct', port: pg.port, proc: null }];
  if ((await ensurePgbouncer()).ok) {
    const b = await startPgbouncer(path.join(tmp, 'pgbouncer'), pg, { poolSize: 40 });
    targets.push({ name: 'pgbouncer', port: b.port, proc: b.proc });
  }
  for (const mode of ['node', 'native']) {
    try {
      targets.push({ name: `pipe-${mode}`, ...(await startPipe(mode, pg.port)) });
    } catch (e) {
      log(`pipe-${mode} skipped: ${e.message}`);
    }
  }
  for (const t of targets) await runPgbench({ port: t.port, clients: 20, mode: 'simple', seconds: 2 });
  const rows = [];
  for (const c of clients) {
    for (const t of targets) {
      const cpu0 = t.proc ? cpuSeconds(t.proc.child.pid) : null;
      const r = await runPgbench({ port: t.port, clients: c, mode: 'simple', seconds });
      const cpu = t.proc ? cpuSeconds(t.proc.child.pid) - cpu0 : null;
      const perK = r.ok && cpu !== null && r.transactions ? (cpu / r.transactions) * 1000 : null;
      rows.push({ clients: c, name: t.name, tps: r.ok ? r.tps : null, perK, error: r.ok ? null : r.error });
      log(`c${c} ${t.name.padEnd(12)} ${r.ok ? `${Math.round(r.tps)} tps` : `failed: ${r.error}`}${perK !== null ? `, ${perK.toPrecision(3)} CPU s/1k tx` : ''}`);
    }
  }
  const lines = ['', '| clients | target | tps | ×PgBouncer tps | ×direct tps | CPU s / 1k tx | ×PgBouncer CPU |', '| ---: | --- | ---: | ---: | ---: | ---: | ---: |'];
  for (const c of clients) {
    const of = (n) => rows.find((r) => r.clients === c && r.name === n);
    const pgb = of('pgbouncer');
    const dir = of('direct');
    for (const r of rows.filter((x) => x.clients === c)) {
      const ratio = (a, b) => (a != null && b != null ? `${(a / b).toFixed(2)}×` : '—');
      lines.push(`| ${c} | ${r.name} | ${r.tps != null ? Math.round(r.tps) : r.error} | ${ratio(r.tps, pgb?.tps)} | ${ratio(r.tps, dir?.tps)} | ${r.perK != null ? r.perK.toPrecision(3) : '—'} | ${ratio(r.perK, pgb?.perK)} |`);
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
}

let code = 0;
try {
  await main();
} catch (e) {
  log(`io-floor failed: ${e.stack ?? e}`);
  code = 1;
} finally {
  await cleanup();
}
process.exit(code);
