/**
 * Commands as a user types them: `sh -c` in a folder, in its own process group (so a signal
 * reaches npm and everything under it, as Ctrl-C does), with an environment free of the npm
 * and vitest variables of the run that started the test. And the commands a README shows.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** process.env without npm's and vitest's own variables, nor node_modules/.bin folders on PATH. */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(npm_|VITEST|INIT_CWD$|NODE_ENV$|NODE_OPTIONS$|TEST$)/i.test(k)) env[k] = v;
  }
  env.PATH = (env.PATH ?? '').split(':').filter((p) => !p.includes('node_modules')).join(':');
  // `npx weir` must come from the checkout: never install it from the registry.
  return { ...env, npm_config_yes: 'false', npm_config_update_notifier: 'false', npm_config_fund: 'false',
    npm_config_audit: 'false', npm_config_prefer_offline: 'true', TURBO_TELEMETRY_DISABLED: '1', ...extra };
}

export interface Shell {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  /** Resolves once the output contains `text`; rejects if the command exits first. */
  waitFor(text: string | RegExp): Promise<void>;
  exited: Promise<number | null>;
  /** Signal the whole process group (no-op once exited). */
  signal(sig: NodeJS.Signals): void;
}

export function shell(command: string, cwd: string, env: Record<string, string> = {}, input = '', killAfterMs = 600_000): Shell {
  const child = spawn('sh', ['-c', command], { cwd, env: userEnv(env), detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.on('error', () => {});
  child.stdin!.end(input);
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d;
    for (const w of waiters) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const safety = setTimeout(() => signal('SIGKILL'), killAfterMs); // a safety net, never an assertion
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => (clearTimeout(safety), resolve(code))),
  );
  function signal(sig: NodeJS.Signals): void {
    if (child.exitCode === null && child.signalCode === null) {
      try { process.kill(-child.pid!, sig); } catch { /* already gone */ }
    }
  }
  const waitFor = (text: string | RegExp) =>
    new Promise<void>((resolve, reject) => {
      const seen = () => (typeof text === 'string' ? out.includes(text) : text.test(out));
      const check = () => seen() && (waiters.delete(check), resolve());
      waiters.add(check);
      check();
      void exited.then((code) => !seen() && reject(new Error(`\`${command}\` exited (${code}) before printing ${text}:\n${out}`)));
    });
  return { child, output: () => out, waitFor, exited, signal };
}

/** Run to the end: exit code and output. */
export async function sh(command: string, cwd: string, env: Record<string, string> = {}, input = ''): Promise<{ code: number | null; output: string }> {
  const s = shell(command, cwd, env, input);
  const code = await s.exited;
  return { code, output: s.output().replace(/\x1b\[[0-9;]*m/g, '') };
}

/**
 * The shell commands a README shows: each line of its ```sh blocks (comments cut, `\`
 * continuations joined) and each inline `code` span that starts with npm, npx or psql.
 */
export function readmeCommands(markdown: string): string[] {
  const found: string[] = [];
  for (const [, block] of markdown.matchAll(/^ *```sh\n([\s\S]*?)^ *```/gm)) {
    for (const line of block!.replace(/\\\n\s*/g, ' ').split('\n')) {
      const cmd = line.replace(/(^|\s)#.*$/, '').trim();
      if (cmd) found.push(cmd);
    }
  }
  for (const [, span] of markdown.matchAll(/(?<!`)`((?:npm|npx|psql) [^`]+)`/g)) found.push(span!);
  return [...new Set(found)];
}
