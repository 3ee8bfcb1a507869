import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { spawnReaper, track, untrack, type Disposable } from './cleanup.js';
import { TestkitError } from './errors.js';
import { freePort } from './free-port.js';
import { LogBook } from './log-book.js';

export interface WeirInstance {
  readonly host: string;
  readonly port: number;
  readonly configFile: string;
  /** Every stdout and stderr line so far, in arrival order. */
  readonly logs: string[];
  readonly process: ChildProcess;
  /** Rewrite the config file (if given; `${PORT}` is kept) then send SIGHUP. */
  reload(newConfigYaml?: string): Promise<void>;
  /** First log line at index ≥ `fromIndex` (default 0) matching `re`. */
  waitForLog(re: RegExp, timeoutMs?: number, fromIndex?: number): Promise<string>;
  /** Send `signal` (default SIGTERM), wait for exit (SIGKILL after 30 s), return the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartWeirOptions {
  /** YAML config; every `${PORT}` is replaced by a free port the kit picks. */
  config: string;
  /** Path of the weir CLI script. Default: the `weir` package's dist/cli.js. */
  bin?: string;
  cwd?: string;
  /** Merged over process.env. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the `listening` line. Default 20 s. */
  timeoutMs?: number;
  /**
   * Where the temp config dir goes. weir resolves third-party plugins (`plugins:` keys that
   * are npm package names) from the config file's directory, so the default is inside the
   * project: `node_modules/.cache/weir-testkit` of the nearest directory, from `cwd` up,
   * that has a node_modules (else the system temp dir).
   */
  configParent?: string;
}

/** The weir CLI of the installed `weir` package, resolved from `cwd` then from here. */
export function defaultWeirBin(cwd = process.cwd()): string {
  for (const base of [cwd, __dirname]) {
    let pkg: string;
    try {
      pkg = require.resolve('weir/package.json', { paths: [base] });
    } catch {
      continue;
    }
    const cli = join(dirname(pkg), 'dist', 'cli.js');
    if (existsSync(cli)) return cli;
    throw new TestkitError('WEIR_E_TESTKIT_WEIR_NOT_FOUND', `${cli} does not exist; build weir first (npm run build)`);
  }
  throw new TestkitError('WEIR_E_TESTKIT_WEIR_NOT_FOUND', 'package "weir" not found; install it or pass { bin }');
}

/** `<nearest dir with node_modules, from cwd up>/node_modules/.cache/weir-testkit`, else tmp. */
function defaultConfigParent(cwd: string): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) return join(dir, 'node_modules', '.cache', 'weir-testkit');
    if (dirname(dir) === dir) return tmpdir();
  }
}

function configHost(yaml: string): string {
  return /\bhost:\s*["']?([^"'\s,}#]+)/.exec(yaml)?.[1] ?? '127.0.0.1';
}

function configPort(yaml: string): number {
  return Number(/\bport:\s*["']?(\d+)/.exec(yaml)?.[1] ?? 6432);
}

class WeirProcess implements WeirInstance, Disposable {
  readonly book = new LogBook();
  readonly exited: Promise<number | null>;
  private reaper: ChildProcess;
  private stopping: Promise<number | null> | undefined;

  constructor(
    readonly process: ChildProcess,
    readonly host: string,
    readonly port: number,
    readonly configFile: string,
    private readonly port$: string,
  ) {
    createInterface({ input: process.stdout!, crlfDelay: Infinity }).on('line', (l) => this.book.push(l, 'stdout'));
    createInterface({ input: process.stderr!, crlfDelay: Infinity }).on('line', (l) => this.book.push(l, 'stderr'));
    this.exited = new Promise((resolve) => {
      process.once('close', (code) => {
        this.book.close(`weir exited (code ${code}, signal ${process.signalCode})`);
        this.reaper.kill(); // only needed while weir runs; never kill a reused pid later
        resolve(code);
      });
    });
    this.reaper = spawnReaper([['kill', '-9', String(process.pid)], ['rm', '-rf', dirname(configFile)]]);
    track(this);
  }

  get logs(): string[] {
    return this.book.lines;
  }

  async reload(newConfigYaml?: string): Promise<void> {
    if (newConfigYaml !== undefined) writeFileSync(this.configFile, newConfigYaml.replaceAll('${PORT}', this.port$));
    this.process.kill('SIGHUP');
  }

  waitForLog(re: RegExp, timeoutMs = 10_000, fromIndex = 0): Promise<string> {
    return this.book.waitFor(re, timeoutMs, fromIndex);
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    this.stopping ??= (async () => {
      if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill(signal);
      const timer = setTimeout(() => this.process.kill('SIGKILL'), 30_000);
      const code = await this.exited;
      clearTimeout(timer);
      this.dispose();
      const report = SANITIZER_REPORT.exec(this.book.lines.join('\n'));
      if (sanitizerEnv() !== null && report !== null) {
        throw new TestkitError('WEIR_E_TESTKIT_SANITIZER', `the native addon under AddressSanitizer/UBSan reported: ${report[0]}; logs:\n${this.book.lines.join('\n')}`);
      }
      return code;
    })();
    return this.stopping;
  }

  private dispose(): void {
    untrack(this);
    this.reaper.kill();
    rmSync(dirname(this.configFile), { recursive: true, force: true });
  }

  disposeSync(): void {
    this.process.kill('SIGKILL');
    this.dispose();
  }
}

/**
 * Spawn `node <bin> start --config FILE` and resolve once it prints a stdout line containing
 * `listening`. Rejects with the collected logs if it exits first or times out.
 */
export async function startWeir(opts: StartWeirOptions): Promise<WeirInstance> {
  const bin = opts.bin ?? defaultWeirBin(opts.cwd);
  const timeoutMs = opts.timeoutMs ?? 20_000;
  for (let attempt = 1; ; attempt++) {
    const picked = opts.config.includes('${PORT}') ? String(await freePort()) : '';
    const yaml = opts.config.replaceAll('${PORT}', picked);
    const parent = opts.configParent ?? defaultConfigParent(opts.cwd ?? process.cwd());
    mkdirSync(parent, { recursive: true });
    const dir = mkdtempSync(join(parent, 'weir-'));
    const configFile = join(dir, 'weir.yaml');
    writeFileSync(configFile, yaml);
    const child = spawn(process.execPath, ['--max-semi-space-size=2', bin, 'start', '--config', configFile], {
      cwd: opts.cwd,
      env: { ...process.env, ...sanitizerEnv(), ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const weir = new WeirProcess(child, configHost(yaml), picked ? Number(picked) : configPort(yaml), configFile, picked);
    try {
      await weir.book.waitFor(/listening/, timeoutMs, 0, 'stdout');
      return weir;
    } catch (cause) {
      await weir.stop('SIGKILL');
      const logs = weir.logs.join('\n');
      if (picked && attempt < 3 && /EADDRINUSE/.test(logs)) continue;
      const why = cause instanceof TestkitError && cause.code === 'WEIR_E_TESTKIT_LOG_TIMEOUT'
        ? `no "listening" line within ${timeoutMs} ms`
        : `weir exited before listening (code ${child.exitCode}, signal ${child.signalCode})`;
      throw new TestkitError('WEIR_E_TESTKIT_WEIR_START', `${why}; logs:\n${logs}`, { cause });
    }
  }
}

const SANITIZER_REPORT = /ERROR: AddressSanitizer[^\n]*|runtime error:[^\n]*|UndefinedBehaviorSanitizer[^\n]*/;
let libasan: string | null | undefined;

/**
 * WEIR_TESTKIT_SANITIZE=1: weir runs the AddressSanitizer + UBSan build of the native addon
 * (`npm run build:asan -w @weir/io`), and stopping it fails on any sanitizer report.
 */
function sanitizerEnv(): NodeJS.ProcessEnv | null {
  if (process.env.WEIR_TESTKIT_SANITIZE !== '1') return null;
  if (libasan === undefined) {
    const r = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' });
    const file = r.stdout?.trim() ?? '';
    libasan = file.startsWith('/') && existsSync(file) ? file : null;
    if (libasan === null) throw new TestkitError('WEIR_E_TESTKIT_SANITIZER', 'WEIR_TESTKIT_SANITIZE=1 but gcc has no libasan.so');
  }
  return {
    WEIR_IO: 'native', WEIR_IO_ADDON: 'asan', LD_PRELOAD: libasan ?? undefined,
    ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1', UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
  };
}
