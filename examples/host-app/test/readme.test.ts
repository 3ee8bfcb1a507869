// The README's "against your own PostgreSQL" command, run as written (only the server's port, the
// tenant's password and the service's port filled in) against a throwaway cluster whose tenant
// database has no tables: the service makes its notes table itself.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCluster, type Cluster } from '@weir/testkit';

const root = join(__dirname, '..', '..', '..');
let cluster: Cluster;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

beforeAll(async () => {
  cluster = await startCluster({ name: 'host-app-readme' });
  await cluster.createRole('app', 'secret');
  await cluster.createDatabase('appdb', 'app');
  await cluster.createRole('acme', 'acme-pw');
  await cluster.createDatabase('acme', 'acme');
});
afterAll(async () => cluster?.stop());

it('serves a tenant of your own PostgreSQL, creating the notes table it needs', async () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const block = /```sh\n(npm run build[^\n]*\nDATABASE_URL=[\s\S]*?npm start -w examples\/host-app)\n```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const port = await freePort();
  const command = block!
    .replace('@localhost/appdb', `@localhost:${cluster.port}/appdb`)
    .replace('"password":"…"', '"password":"acme-pw"')
    .replace('PORT=3000', `PORT=${port}`);
  expect(command).not.toContain('…');
  const child = spawn('sh', ['-c', command], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const listening = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => ((output += d), output.includes('notes service on') && resolve());
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`exited (${code}) before listening:\n${output}`)));
  });
  try {
    await listening;
    const base = `http://127.0.0.1:${port}/tenants/acme/notes`;
    const added = await fetch(base, { method: 'POST', body: 'buy anvils' });
    expect([added.status, await added.json()]).toEqual([200, { id: 1 }]);
    const listed = await fetch(base);
    expect(await listed.json()).toEqual([{ id: 1, body: 'buy anvils' }]);
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
});
