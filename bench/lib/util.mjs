// Shared helpers for the bench harness: process spawning with cleanup,
// /proc readings (CPU, RSS over a process tree), free ports, small waits.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
export const NOFILE = 65536;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function log(...args) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${args.join(' ')}\n`);
}

// ---------------------------------------------------------------- cleanup
const tracked = new Set(); // { child, name, stopSignal }
const tempDirs = new Set();
let cleaningUp = null;

export function trackTempDir(dir) {
  tempDirs.add(dir);
}

/** Stop every tracked process (its stop signal, then SIGKILL) and remove temp dirs. */
export function cleanup() {
  if (cleaningUp) return cleaningUp;
  cleaningUp = (async () => {
    // Newest first: clients and poolers before PostgreSQL.
    const procs = [...tracked].reverse();
    for (const p of procs) await stopProcess(p, 8000);
    for (const d of tempDirs) {
      try {
        rmSync(d, { recursive: true, force: true });
      } catch {}
    }
    tempDirs.clear();
  })();
  return cleaningUp;
}

function cleanupSync() {
  for (const p of tracked) {
    try {
      process.kill(p.child.pid, p.name === 'postgres' ? 'SIGQUIT' : 'SIGKILL');
    } catch {}
  }
  for (const d of tempDirs) {
    try {
      rmSync(d, { recursive: true, force: true });
    } catch {}
  }
}

let handlersInstalled = false;
export function installCleanupHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (sig) => {
    log(`${sig}: stopping every process and removing temp dirs`);
    cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('exit', cleanupSync);
}

/** Wait for a tracked process to exit, signalling it first. */
export async function stopProcess(p, timeoutMs = 8000) {
  if (!tracked.has(p)) return;
  const { child } = p;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    try {
      process.kill(child.pid, p.stopSignal);
    } catch {}
    const t = await Promise.race([exited.then(() => 'exit'), sleep(timeoutMs).then(() => 'timeout')]);
    if (t === 'timeout') {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {}
      await Promise.race([exited, sleep(2000)]);
    }
  }
  tracked.delete(p);
}

/**
 * Spawn a long-lived or short-lived process, tracked for cleanup.
 * - asPostgres: when root, drop to OS user postgres (setpriv execs, so the pid is the program's).
 * - nofile: raise the open-files limit first (bash ulimit, done as root before dropping).
 * Children get their own process group so a terminal Ctrl-C reaches only the harness,
 * which then stops them in order.
 */
export function spawnTracked(cmd, args, opts = {}) {
  const { asPostgres = false, nofile = false, env, cwd, name = cmd, stopSignal = 'SIGTERM' } = opts;
  let argv = [cmd, ...args];
  if (asPostgres && isRoot) {
    argv = ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--', ...argv];
  }
  if (nofile) {
    argv = [
      'bash',
      '-c',
      `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`,
      'bash',
      ...argv,
    ];
  }
  const child = spawn(argv[0], argv.slice(1), {
    env: env ?? process.env,
    cwd,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const p = { child, name, stopSignal, stdout: '', stderr: '' };
  const cap = 256 * 1024;
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    if (p.stdout.length < cap) p.stdout += d;
  });
  child.stderr.on('data', (d) => {
    if (p.stderr.length < cap) p.stderr += d;
  });
  child.on('error', (e) => {
    p.spawnError = e;
  });
  child.on('exit', () => tracked.delete(p));
  tracked.add(p);
  p.exited = new Promise((r) => child.on('close', (code, signal) => r({ code, signal })));
  return p;
}

/** Run a command to completion (tracked, time-bounded). Resolves { code, signal, stdout, stderr, timedOut }. */
export async function run(cmd, args, opts = {}) {
  const { timeoutMs = 600_000, input } = opts;
  const p = spawnTracked(cmd, args, opts);
  if (input !== undefined) p.child.stdin.end(input);
  else p.child.stdin.end();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-p.child.pid, 'SIGKILL');
    } catch {
      try {
        process.kill(p.child.pid, 'SIGKILL');
      } catch {}
    }
  }, timeoutMs);
  const { code, signal } = await p.exited;
  clearTimeout(timer);
  tracked.delete(p);
  if (p.spawnError) return { code: 127, signal: null, stdout: p.stdout, stderr: String(p.spawnError.message), timedOut };
  return { code, signal, stdout: p.stdout, stderr: p.stderr, timedOut };
}

export function commandExists(cmd) {
  return spawnSync('bash', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------- /proc
export const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number.parseInt(r.stdout, 10);
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

function readStat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
    return { ppid: Number(rest[1]), utime: Number(rest[11]), stime: Number(rest[12]) };
  } catch {
    return null;
  }
}

/** pid and all its live descendants. */
export function processTree(rootPid) {
  const children = new Map();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const st = readStat(e);
    if (!st) continue;
    const pid = Number(e);
    if (!children.has(st.ppid)) children.set(st.ppid, []);
    children.get(st.ppid).push(pid);
  }
  const out = [];
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop();
    out.push(pid);
    for (const c of children.get(pid) ?? []) stack.push(c);
  }
  return out;
}

/** CPU seconds (user + system) of a process and its live descendants. */
export function cpuSeconds(rootPid) {
  let ticks = 0;
  for (const pid of processTree(rootPid)) {
    const st = readStat(pid);
    if (st) ticks += st.utime + st.stime;
  }
  return ticks / CLK_TCK;
}

/** Resident set size in KiB of a process and its live descendants. */
export function rssKiB(rootPid) {
  let kib = 0;
  for (const pid of processTree(rootPid)) {
    try {
      const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) kib += Number(m[1]);
    } catch {}
  }
  return kib;
}

export function firstLine(text, pattern) {
  const lines = String(text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (pattern) {
    const hit = lines.find((l) => pattern.test(l));
    if (hit) return hit;
  }
  return lines[0] ?? '';
}

export function tail(text, n = 8) {
  return String(text ?? '')
    .trimEnd()
    .split('\n')
    .slice(-n)
    .join('\n');
}

/** True if something accepts TCP connections on host:port. */
export function tcpProbe(port, host = '127.0.0.1', timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
