// Rolling-restart switches under pgbench -C (docs/design-notes.md has the figures): weir A and B
// on one SO_REUSEPORT port, pgbench -n -C -S -T 2 against it, SIGTERM to A 0.8 s in; B becomes
// the next A. Counts the switches in which pgbench aborted a client. After `npm run build`:
//   node bench/rolling-switch.mjs       (SWITCHES=15, CLIENTS=8; WEIR_IO=node for node:net)
// The kernel's net.ipv4.tcp_migrate_req is read and printed, never set.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { startCluster, startWeir, freePort, findPgBin } = require('../packages/testkit/dist/index.js');
const N = Number(process.env.SWITCHES ?? 15);
const CLIENTS = process.env.CLIENTS ?? '8';
const cluster = await startCluster({ name: 'roll-measure' });
await cluster.createRole('app', 'secret', { method: 'md5' });
await cluster.createDatabase('appdb', 'app');
const hash = (await cluster.query(`select rolpassword from pg_authid where rolname='app'`))[0].rolpassword;
const run = (args) => new Promise((res) => {
  const c = spawn(findPgBin('pgbench'), args, { env: { ...process.env, PGPASSWORD: 'secret', PGSSLMODE: 'disable', PGCONNECT_TIMEOUT: '20' } });
  let out = ''; c.stdout.on('data', (d) => (out += d)); c.stderr.on('data', (d) => (out += d));
  c.on('close', (code) => res({ code, out }));
});
await run(['-h', '127.0.0.1', '-p', String(cluster.port), '-U', 'app', '-i', '-s', '1', '-q', 'appdb']);
const port = await freePort();
const cfg = `general:
  host: 127.0.0.1
  port: ${port}
  admin_user: admin
  admin_password: admin
  so_reuseport: true
  shutdown_timeout: 30s
  query_wait_timeout: 60s
  log_connections: false
  log_disconnections: false
pools:
  appdb:
    server_host: 127.0.0.1
    server_port: ${cluster.port}
    pool_mode: transaction
    pool_size: 4
    users:
      - username: app
        password: "${hash}"
`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let a = await startWeir({ config: cfg });
// badRuns: switches in which pgbench aborted a client or failed; drained: connections A took from its queue as it closed.
const totals = { runs: 0, badRuns: 0, aborted: 0, failed: 0, tx: 0, drained: 0 };
for (let i = 0; i < N; i++) {
  const b = await startWeir({ config: cfg });
  const bench = run(['-h', '127.0.0.1', '-p', String(port), '-U', 'app', '-n', '-C', '-S', '-c', CLIENTS, '-j', '2', '-T', '2', 'appdb']);
  await sleep(800);
  const mark = a.logs.length;
  const code = await a.stop('SIGTERM');
  const r = await bench;
  const aborted = (r.out.match(/client \d+ aborted/g) ?? []).length;
  const failed = Number(/number of failed transactions: (\d+)/.exec(r.out)?.[1] ?? -1);
  const tx = Number(/actually processed: (\d+)/.exec(r.out)?.[1] ?? 0);
  const drained = a.logs.slice(mark).filter((l) => /queued connection/.test(l)).map((l) => JSON.parse(l).connections).reduce((x, y) => x + y, 0);
  totals.runs++; totals.tx += tx; totals.aborted += aborted; totals.drained += drained;
  if (r.code !== 0 || aborted > 0 || failed !== 0) { totals.badRuns++; console.log(`switch ${i}: pgbench exit ${r.code}, weir A exit ${code}\n${r.out.split('\n').filter((l) => /abort|error|fail/i.test(l)).slice(0, 4).join('\n')}`); }
  a = b;
}
await a.stop('SIGINT');
await cluster.stop();
let migrate = 'absent';
try { migrate = readFileSync('/proc/sys/net/ipv4/tcp_migrate_req', 'utf8').trim(); } catch { /* kernel < 5.14 */ }
console.log(JSON.stringify({ io: process.env.WEIR_IO ?? 'native', tcp_migrate_req: migrate, clients: Number(CLIENTS), ...totals }));
