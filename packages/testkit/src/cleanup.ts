import { spawn, type ChildProcess } from 'node:child_process';

/** Something that must be torn down even if the test process dies. */
export interface Disposable {
  /** Synchronous, best-effort teardown; runs on process exit, SIGINT and SIGTERM. */
  disposeSync(): void;
}

const tracked = new Set<Disposable>();
let installed = false;

function disposeAll(): void {
  for (const item of [...tracked]) {
    tracked.delete(item);
    try {
      item.disposeSync();
    } catch {
      // best effort: keep tearing down the rest
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  disposeAll();
  // Keep the default behaviour (die by the signal) unless someone else also listens.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', disposeAll);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

export function track(item: Disposable): void {
  install();
  tracked.add(item);
}

export function untrack(item: Disposable): void {
  tracked.delete(item);
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * A detached watchdog that runs `argv` once this process is gone — covers SIGKILL and
 * crashes, where exit handlers never run. Kill the returned process to cancel it.
 */
export function spawnReaper(commands: string[][]): ChildProcess {
  const script =
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
    commands.map((argv) => `${argv.map(shQuote).join(' ')} >/dev/null 2>&1`).join('; ');
  const child = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}
