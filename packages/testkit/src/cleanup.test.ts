// Clusters are stopped and removed even when the test process dies. Runs the built
// package (dist/) in a child process: `npm run build` first.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

const dist = join(__dirname, '..', 'dist', 'index.js');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Start a cluster in a child; `then` runs there once it is up. */
async function childWithCluster(then: string) {
  expect(existsSync(dist), `${dist} missing: build @weir/testkit first`).toBe(true);
  const script = `require(${JSON.stringify(dist)}).startCluster().then((c) => { console.log(c.dataDir); ${then} });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const dataDir = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', () => reject(new Error(`child exited before starting a cluster: ${stderr}`)));
  });
  await eventually(() => existsSync(join(dataDir, 'postmaster.pid')));
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return { child, exited, dataDir, postmaster };
}

describe('cleanup', () => {
  it('stops and removes a cluster when the process dies of an uncaught error', async () => {
    const { exited, dataDir, postmaster } = await childWithCluster("throw new Error('test failed');");
    await exited;
    expect(existsSync(dataDir)).toBe(false);
    await eventually(() => !alive(postmaster), 5000);
  });

  it('stops and removes a cluster on SIGTERM', async () => {
    const { child, exited, dataDir, postmaster } = await childWithCluster('setInterval(() => {}, 1000);');
    child.kill('SIGTERM');
    await exited;
    expect(child.signalCode).toBe('SIGTERM');
    expect(existsSync(dataDir)).toBe(false);
    await eventually(() => !alive(postmaster), 5000);
  });

  it('stops and removes a cluster even after SIGKILL (watchdog)', async () => {
    const { child, exited, dataDir, postmaster } = await childWithCluster('setInterval(() => {}, 1000);');
    child.kill('SIGKILL');
    await exited;
    await eventually(() => !existsSync(dataDir) && !alive(postmaster));
  });
});
