#!/usr/bin/env node
// `npm run bench`: weir vs PgBouncer vs direct PostgreSQL, interleaved in one run.
// See bench/README.md for what it measures and the BENCH_* knobs.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cleanup,
  cpuSeconds,
  installCleanupHandlers,
  log,
  run,
  trackTempDir,
  isRoot,
} from './lib/util.mjs';
import { startPostgres, giveToPostgres, PG_BIN, BENCH_DB, BENCH_PASSWORD, BENCH_USER } from './lib/postgres.mjs';
import { ensurePgbouncer, startPgbouncer } from './lib/pgbouncer.mjs';
import { startWeir, describeVariant } from './lib/weir.mjs';
import { runPgbench } from './lib/pgbench.mjs';
import { measureIdleRss } from './lib/idle.mjs';
import { renderReport, scenarioLabel, key } from './lib/report.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ALL_TARGETS = ['direct', 'pgbouncer', 'weir'];
const ALL_MODES = ['simple', 'extended', 'prepared'];

function intEnv(name, dflt) {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return dflt;
  const n = Number.parseInt(v, 10);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${v}"`);
  return n;
}
function listEnv(name, dflt, allowed) {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return dflt;
  const items = v.split(',').map((x) => x.trim()).filter(Boolean);
  if (allowed) {
    const bad = items.filter((x) => !allowed.includes(x));
    if (bad.length) throw new Error(`${name}: unknown ${bad.join(', ')} (allowed: ${allowed.join(', ')})`);
  }
  return items;
}

function settings() {
  const quick = process.env.BENCH_QUICK === '1';
  const clients = listEnv('BENCH_CLIENTS', quick ? ['40', '120'] : ['1', '40', '120', '500']).map((c) => {
    const n = Number.parseInt(c, 10);
    if (!(n > 0)) throw new Error(`BENCH_CLIENTS: bad client count "${c}"`);
    return n;
  });
  return {
    quick,
    seconds: intEnv('BENCH_SECONDS', quick ? 3 : 10) || 1,
    clients,
    modes: listEnv('BENCH_MODES', quick ? ['simple', 'prepared'] : ALL_MODES, ALL_MODES),
    reconnectClients: intEnv('BENCH_RECONNECT_CLIENTS', 40),
    targets: listEnv('BENCH_TARGETS', ALL_TARGETS, ALL_TARGETS),
    idleClients: intEnv('BENCH_IDLE_CLIENTS', quick ? 1000 : 10000),
    scale: intEnv('BENCH_SCALE', 10) || 1,
    poolSize: 40,
    threads: 2,
    warmupSeconds: quick ? 1 : 3,
  };
}

/** A login + SELECT 1 through a target with psql; returns null or the error. */
async function selectOne(port) {
  const r = await run(path.join(PG_BIN, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', BENCH_USER, '-d', BENCH_DB, '-Atc', 'SELECT 1'], {
    env: { ...process.env, PGPASSWORD: BENCH_PASSWORD, PGCONNECT_TIMEOUT: '10' },
    timeoutMs: 30_000,
    name: 'psql',
  });
  if (r.code === 0 && r.stdout.trim() === '1') return null;
  return (r.stderr || r.stdout || `psql exited ${r.code ?? r.signal}`).trim().split('\n')[0];
}

const alive = (t) => !t.proc || (t.proc.child.exitCode === null && t.proc.child.signalCode === null);

async function main() {
  installCleanupHandlers();
  const cfg = settings();
  const scenarios = [];
  for (const clients of cfg.clients) for (const mode of cfg.modes) scenarios.push({ mode, clients, reconnect: false });
  if (cfg.reconnectClients > 0) scenarios.push({ mode: 'simple', clients: cfg.reconnectClients, reconnect: true });

  log(
    `${scenarios.length} scenarios × ${cfg.targets.join('/')} × ${cfg.seconds} s` +
      (cfg.idleClients ? `; ${cfg.idleClients} idle clients` : '') +
      (cfg.quick ? ' (BENCH_QUICK)' : ''),
  );

  const loadStart = os.loadavg()[0];
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'weir-bench-'));
  trackTempDir(tmp);
  giveToPostgres(tmp);

  const pg = await startPostgres(path.join(tmp, 'pg'), { scale: cfg.scale });

  /** name -> { selected, available, reason, port, proc, describe } */
  const targets = {};
  for (const name of ALL_TARGETS) targets[name] = { name, selected: cfg.targets.includes(name), available: false };

  if (targets.direct.selected) {
    Object.assign(targets.direct, { available: true, port: pg.port, proc: null, describe: `PostgreSQL ${pg.version}` });
  }

  if (targets.pgbouncer.selected) {
    const t = targets.pgbouncer;
    const have = await ensurePgbouncer();
    if (!have.ok) {
      t.reason = have.reason;
      log(`PgBouncer column skipped: ${have.reason}`);
    } else {
      try {
        const b = await startPgbouncer(path.join(tmp, 'pgbouncer'), pg, { poolSize: cfg.poolSize });
        Object.assign(t, {
          available: true,
          port: b.port,
          proc: b.proc,
          stop: b.stop,
          version: b.version,
          describe: `PgBouncer ${b.version}, pool_mode transaction, default_pool_size ${cfg.poolSize}, auth_type md5`,
        });
      } catch (e) {
        t.reason = e.message.split('\n').join(' | ');
        log(`PgBouncer column skipped: ${e.message}`);
      }
    }
  }

  if (targets.weir.selected) {
    const t = targets.weir;
    try {
      const weirDir = path.join(tmp, 'weir');
      mkdirSync(weirDir, { recursive: true });
      const w = await startWeir(weirDir, pg, (w) => selectOne(w.port));
      Object.assign(t, {
        available: true,
        port: w.port,
        proc: w.proc,
        stop: w.stop,
        describe: `data path ${process.env.BENCH_WEIR_IO ?? 'native (default)'}, pool_mode transaction, pool_size ${cfg.poolSize}, ${describeVariant(w.variant)}` + (w.fallbacks.length ? ` (after ${w.fallbacks.length} failed variant(s))` : '') +
          (w.listeningLine ? '' : '; note: printed no `listening` line at log_level warn'),
      });
    } catch (e) {
      t.reason = e.short ?? e.message.split('\n')[0];
      log(`weir column skipped: ${e.message}`);
    }
  }

  for (const t of Object.values(targets)) {
    if (!t.available) continue;
    const bad = await selectOne(t.port);
    if (bad) {
      t.available = false;
      t.reason = `login + SELECT 1 failed: ${bad}`;
      log(`${t.name} skipped: ${t.reason}`);
    }
  }
  const order = ALL_TARGETS.filter((n) => targets[n].available);
  if (!order.length) throw new Error('no target is available');

  // Idle-client RSS first, on freshly started poolers: after the pgbench runs a
  // garbage-collected pooler (weir is Node) holds heap garbage that a later GC
  // returns, which would make "RSS after - RSS before" meaningless.
  const idle = {};
  if (cfg.idleClients > 0) {
    for (const n of ['pgbouncer', 'weir']) {
      const t = targets[n];
      if (!t.available || !alive(t)) continue;
      log(`idle clients: ${cfg.idleClients} against ${n}`);
      idle[n] = await measureIdleRss(t, cfg.idleClients);
      const r = idle[n];
      log(
        `  ${n}: ${r.ready}/${r.count} idle, RSS ${r.beforeKiB} -> ${r.afterKiB} KiB` +
          (r.kibPerClient != null ? `, ${r.kibPerClient.toFixed(2)} KiB per client` : '') +
          (r.firstError ? `; first error: ${r.firstError}` : ''),
      );
      if (!alive(t)) {
        t.available = false;
        t.ranOnce = true;
        t.reason = `${n} process exited (${t.proc.child.exitCode ?? t.proc.child.signalCode}) during the idle-client test`;
        log(t.reason);
      }
    }
  }

  // Warm-up (not recorded): caches, JIT, pool fill.
  for (const n of order) {
    if (!targets[n].available) continue;
    log(`warm-up ${n}`);
    await runPgbench({ port: targets[n].port, clients: 40, mode: 'simple', seconds: cfg.warmupSeconds, threads: cfg.threads });
  }

  const results = new Map();
  const total = scenarios.length * order.length;
  let done = 0;
  for (const [i, s] of scenarios.entries()) {
    // Rotate the target order per scenario so drift and position effects hit all alike.
    const rot = order.map((_, j) => order[(i + j) % order.length]);
    for (const n of rot) {
      const t = targets[n];
      done++;
      if (!t.available) continue;
      if (!alive(t)) {
        t.available = false;
        t.ranOnce = true;
        t.reason = `${n} process exited (${t.proc.child.exitCode ?? t.proc.child.signalCode}) during the run`;
        log(t.reason);
        continue;
      }
      const cpu0 = t.proc ? cpuSeconds(t.proc.child.pid) : null;
      const r = await runPgbench({ port: t.port, clients: s.clients, mode: s.mode, reconnect: s.reconnect, seconds: cfg.seconds, threads: cfg.threads });
      const cpu1 = t.proc ? cpuSeconds(t.proc.child.pid) : null;
      if (cpu0 !== null && cpu1 !== null) {
        r.cpuSeconds = cpu1 - cpu0;
        r.cpuPer1k = r.transactions ? (r.cpuSeconds / r.transactions) * 1000 : null;
      }
      results.set(key(s, n), r);
      const what = r.ok
        ? `${Math.round(r.tps)} tps` + (r.cpuPer1k != null ? `, ${r.cpuPer1k.toPrecision(3)} CPU s/1k tx` : '')
        : `failed: ${r.error}`;
      log(`[${done}/${total}] ${n.padEnd(9)} ${scenarioLabel(s).padEnd(24)} ${what}`);
      if (!alive(t)) {
        t.available = false;
        t.ranOnce = true;
        t.reason = `${n} process exited (${t.proc.child.exitCode ?? t.proc.child.signalCode}) during \`${scenarioLabel(s)}\``;
        log(t.reason);
      }
    }
  }

  const report = renderReport({
    scenarios,
    results,
    targetState: targets,
    idle,
    meta: {
      date: new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
      scale: cfg.scale,
      seconds: cfg.seconds,
      threads: cfg.threads,
      cpus: os.cpus().length,
      node: process.versions.node,
      pgVersion: pg.version,
      load: `${loadStart.toFixed(2)} at start, ${os.loadavg()[0].toFixed(2)} at end`,
    },
  });
  process.stdout.write('\n' + report + '\n');
  const outDir = path.join(BENCH_DIR, 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'latest.md'), report);
  writeFileSync(
    path.join(outDir, 'latest.json'),
    JSON.stringify(
      {
        settings: cfg,
        targets: Object.fromEntries(Object.values(targets).map((t) => [t.name, { selected: t.selected, available: t.available, reason: t.reason ?? null, describe: t.describe ?? null }])),
        runs: scenarios.flatMap((s) => ALL_TARGETS.map((n) => ({ scenario: scenarioLabel(s), ...s, target: n, ...(results.get(key(s, n)) ?? { ran: false }) }))),
        idle,
      },
      null,
      2,
    ),
  );
  log(`wrote ${path.relative(process.cwd(), path.join(outDir, 'latest.md'))}`);
}

if (!isRoot) log('note: not root — PostgreSQL and PgBouncer run as the current user; open-files limit raised only up to the hard limit');

let exitCode = 0;
try {
  await main();
} catch (e) {
  log(`bench failed: ${e.stack ?? e}`);
  exitCode = 1;
} finally {
  log('cleaning up');
  await cleanup();
}
process.exit(exitCode);
