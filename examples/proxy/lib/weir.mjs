// The weir proxy as a child process: its stdout passes through; we watch for `listening`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

const require = createRequire(import.meta.url);

/** The weir CLI script: $WEIR_CLI if set, else the `weir` package's dist/cli.js. */
export function weirCli() {
  if (process.env.WEIR_CLI) return process.env.WEIR_CLI;
  const cli = join(dirname(require.resolve('weir/package.json')), 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error(`WEIR_E_EXAMPLE_NO_CLI: ${cli} is missing; run \`npm run build\` at the repository root`);
  return cli;
}

/** Spawn `weir start --config file`; resolves with the child once it prints `listening`. */
export function startWeir(configFile, { timeoutMs = 30_000 } = {}) {
  const child = spawn(process.execPath, ['--max-semi-space-size=2', weirCli(), 'start', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`WEIR_E_EXAMPLE_WEIR_START: no "listening" line within ${timeoutMs} ms`)), timeoutMs);
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
      process.stdout.write(`${line}\n`);
      if (line.includes('listening')) clearTimeout(timer), resolve();
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`WEIR_E_EXAMPLE_WEIR_START: weir exited before listening (code ${code}, signal ${signal})`));
    });
  });
  return { child, exited, listening };
}

/** SIGTERM (graceful), SIGKILL if still running after `graceMs`. Resolves with the exit. */
export async function stopWeir({ child, exited }, graceMs = 15_000) {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const result = await exited;
  clearTimeout(timer);
  return result;
}
