// `npm start` end to end: start.mjs brings up PostgreSQL and weir, a client queries
// appdb through weir as app/app, and SIGINT stops both and exits 0.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { expect, it } from 'vitest';

const exampleDir = join(__dirname, '..');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

it('serves appdb through weir and stops cleanly on SIGINT', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['start.mjs'], {
    cwd: exampleDir,
    env: { ...process.env, WEIR_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d;
      if (output.includes('Press Ctrl-C')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    exited.then((code) => reject(new Error(`start.mjs exited (${code}):\n${output}`)));
  });
  try {
    await ready;
    expect(output).toContain(`psql "postgres://app:app@127.0.0.1:${port}/appdb"`);
    const runDir = /starting embedded PostgreSQL in (\S+)/.exec(output)![1]!;

    const client = new pg.Client(`postgres://app:app@127.0.0.1:${port}/appdb`);
    await client.connect();
    const { rows } = await client.query('SELECT current_user AS u, current_database() AS d');
    expect(rows).toEqual([{ u: 'app', d: 'appdb' }]);
    await client.end();

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toMatch(/weir stopped[\s\S]*PostgreSQL stopped/);
    expect(existsSync(runDir)).toBe(false);
  } finally {
    // SIGTERM lets start.mjs stop weir and PostgreSQL; SIGKILL would orphan them.
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  }
});
