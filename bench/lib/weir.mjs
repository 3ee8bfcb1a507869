// weir as a bench target: write a YAML config, run `weir start --config FILE`,
// wait for its `listening` line.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, log, sleep, spawnTracked, stopProcess, tail, tcpProbe } from './util.mjs';
import { BENCH_DB, BENCH_PASSWORD, BENCH_USER } from './postgres.mjs';
import { md5hex } from './pgwire.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WEIR_CLI = process.env.BENCH_WEIR_CLI ?? path.join(ROOT, 'packages/weir/dist/cli.js');

/**
 * auth 'md5': the user's password is written as its md5 hash, so clients are asked
 * for md5 (as PgBouncer's auth_type md5 asks them) and weir logs in to PostgreSQL
 * by md5 passthrough. auth 'plain': plaintext in the config (clients get SCRAM).
 */
export function weirConfig({ port, pgPort, poolSize = 40, maxClientConn = 12000, plugins = true, auth = 'md5' }) {
  const password = auth === 'md5' ? `"md5${md5hex(BENCH_PASSWORD + BENCH_USER)}"` : BENCH_PASSWORD;
  return [
    'general:',
    '  host: 127.0.0.1',
    `  port: ${port}`,
    '  admin_user: admin',
    '  admin_password: admin',
    '  query_wait_timeout: 30s',
    `  max_client_conn: ${maxClientConn}`,
    '  log_level: warn',
    ...(plugins ? ['plugins:', '  prepared_statements: { enabled: true, max_per_connection: 1000 }'] : []),
    'pools:',
    `  ${BENCH_DB}:`,
    '    server_host: 127.0.0.1',
    `    server_port: ${pgPort}`,
    '    pool_mode: transaction',
    `    pool_size: ${poolSize}`,
    '    users:',
    `      - username: ${BENCH_USER}`,
    `        password: ${password}`,
    '',
  ].join('\n');
}

/** Start weir once with one config variant. Resolves { port, proc, configFile } or throws. */
export async function startWeirOnce(dir, pg, variant, { startTimeoutMs = 20_000 } = {}) {
  if (!existsSync(WEIR_CLI)) throw new Error(`${path.relative(process.cwd(), WEIR_CLI) || WEIR_CLI} does not exist (weir not built yet?)`);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const configFile = path.join(dir, `weir-${variant.auth}${variant.plugins ? '-plugins' : ''}.yaml`);
  writeFileSync(configFile, weirConfig({ port, pgPort: pg.port, ...variant }));
  // The flags the weir CLI's own shebang uses (`npx weir`), plus any from BENCH_WEIR_NODE_ARGS.
  const nodeArgs = ('--max-semi-space-size=2 ' + (process.env.BENCH_WEIR_NODE_ARGS ?? '')).split(/\s+/).filter(Boolean);
  const proc = spawnTracked(process.execPath, [...nodeArgs, WEIR_CLI, 'start', '--config', configFile], {
    nofile: true,
    cwd: ROOT,
    // BENCH_WEIR_IO=node|native picks weir's data path (general.io; the WEIR_IO override).
    env: { ...process.env, NODE_ENV: 'production', ...(process.env.BENCH_WEIR_IO ? { WEIR_IO: process.env.BENCH_WEIR_IO } : {}) },
    name: 'weir',
    stopSignal: 'SIGINT', // fast shutdown
  });
  const deadline = Date.now() + startTimeoutMs;
  let nextProbe = Date.now() + 1000;
  let listeningLine = true;
  for (;;) {
    if (proc.spawnError) throw new Error(`could not spawn weir: ${proc.spawnError.message}`);
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      await sleep(50);
      throw new Error(`weir exited at startup (${proc.child.exitCode ?? proc.child.signalCode}): ${lastWords(proc)}\n${tail(proc.stderr + '\n' + proc.stdout)}`);
    }
    if (/listening/i.test(proc.stdout) || /listening/i.test(proc.stderr)) break;
    // The contract is a `listening` line; if the port answers without one (e.g. the line
    // is logged below log_level), go on after a short grace period and say so.
    if (Date.now() >= nextProbe) {
      nextProbe = Date.now() + 500;
      if (await tcpProbe(port)) {
        await sleep(300);
        if (/listening/i.test(proc.stdout + proc.stderr)) break;
        listeningLine = false;
        log('weir: its port accepts connections but it printed no `listening` line (log_level warn hides it?); going on');
        break;
      }
    }
    if (Date.now() > deadline) {
      await stopProcess(proc, 3000);
      throw new Error(`weir did not listen within ${startTimeoutMs} ms: ${lastWords(proc)}\n${tail(proc.stderr + '\n' + proc.stdout)}`);
    }
    await sleep(100);
  }
  return { port, proc, configFile, variant, listeningLine, stop: () => stopProcess(proc, 8000) };
}

/**
 * Start weir, falling back through config variants: without the prepared_statements
 * plugin if weir refuses to start with it; with a plaintext password if the md5-hash
 * config starts but `check(target)` (a real login + query) fails.
 */
export async function startWeir(dir, pg, check) {
  if (!existsSync(WEIR_CLI)) {
    const err = new Error(`${WEIR_CLI} does not exist (weir not built yet?)`);
    err.short = err.message;
    throw err;
  }
  const errors = [];
  const preferred = process.env.BENCH_WEIR_AUTH === 'plain' ? ['plain'] : ['md5', 'plain'];
  for (const auth of preferred) {
    for (const plugins of process.env.BENCH_WEIR_PLUGINS === '0' ? [false] : [true, false]) {
      const variant = { auth, plugins };
      let w;
      try {
        w = await startWeirOnce(dir, pg, variant);
      } catch (e) {
        errors.push(`[${describeVariant(variant)}] ${e.message}`);
        log(`weir (${describeVariant(variant)}) did not start: ${firstErrLine(e.message)}`);
        continue; // next: without plugins
      }
      const bad = await check(w);
      if (!bad) {
        log(`weir on 127.0.0.1:${w.port} (pid ${w.proc.child.pid}; ${describeVariant(variant)})`);
        return { ...w, fallbacks: errors };
      }
      errors.push(`[${describeVariant(variant)}] started, but a login + SELECT 1 failed: ${bad}`);
      log(`weir (${describeVariant(variant)}) started but SELECT 1 through it failed: ${bad}`);
      await w.stop();
      // a running weir that fails the query: try the next variant
    }
  }
  const err = new Error(errors.join('\n'));
  err.short = errors.length ? firstErrLine(errors[errors.length - 1]) : 'weir did not start';
  throw err;
}

export function describeVariant(v) {
  return `${v.auth === 'md5' ? 'md5-hash password' : 'plaintext password'}, ${v.plugins ? 'prepared_statements on' : 'no plugins'}`;
}

function firstErrLine(s) {
  return String(s).split('\n').find((l) => l.trim()) ?? '';
}

/** The most telling line of a failed start: the last stderr line, else stdout's; pino's msg if JSON. */
function lastWords(proc) {
  const pick = (t) => String(t).split('\n').map((l) => l.trim()).filter(Boolean).pop();
  const line = pick(proc.stderr) ?? pick(proc.stdout) ?? '(no output)';
  try {
    const j = JSON.parse(line);
    return [j.msg, j.err?.message ?? j.error].filter(Boolean).join(': ') || line;
  } catch {
    return line;
  }
}
