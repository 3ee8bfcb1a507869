// RSS per idle client: open N idle logins against a pooler (in a child process
// with a raised open-files limit) and compare the pooler's RSS before and after.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { log, rssKiB, sleep, spawnTracked, stopProcess } from './util.mjs';
import { BENCH_DB, BENCH_PASSWORD, BENCH_USER } from './postgres.mjs';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'idle-clients.mjs');

/** Median of 5 RSS samples 300 ms apart (a GC-ing pooler's RSS moves). */
async function sampleRss(pid) {
  const xs = [];
  for (let i = 0; i < 5; i++) {
    if (i) await sleep(300);
    xs.push(rssKiB(pid));
  }
  xs.sort((a, b) => a - b);
  return xs[2];
}

/**
 * @param {{name:string, port:number, proc:{child:{pid:number}}}} target
 * @returns {Promise<{count, ready, failed, beforeKiB, afterKiB, kibPerClient, firstError, elapsedMs}>}
 */
export async function measureIdleRss(target, count, { settleMs = 2000, restMs = 13_000, connectPhaseMs = 180_000 } = {}) {
  const pid = target.proc.child.pid;
  await sleep(3000); // let the pooler settle after the pgbench runs
  const beforeKiB = await sampleRss(pid);
  const worker = spawnTracked(
    process.execPath,
    [
      WORKER,
      JSON.stringify({
        host: '127.0.0.1',
        port: target.port,
        user: BENCH_USER,
        password: BENCH_PASSWORD,
        database: BENCH_DB,
        count,
        connectPhaseMs,
        holdMaxMs: connectPhaseMs + 60_000,
      }),
    ],
    { nofile: true, name: `idle-clients(${target.name})`, stopSignal: 'SIGTERM' },
  );

  let done = null;
  let lastProgress = 0;
  let buf = '';
  const gotDone = new Promise((resolve) => {
    worker.child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          continue;
        }
        if (msg.progress && Date.now() - lastProgress > 5000) {
          lastProgress = Date.now();
          log(`  ${target.name}: ${msg.ready} idle clients logged in, ${msg.failed} failed`);
        }
        if (msg.done) resolve((done = msg));
      }
    });
    worker.exited.then(() => resolve(done));
  });
  const result = await Promise.race([gotDone, sleep(connectPhaseMs + 30_000).then(() => null)]);

  // Two readings: right after the logins, and after the clients have rested restMs more. A
  // garbage-collected pooler still holds the logins' garbage at the first; V8's memory reducer
  // collects it once the process has been idle for a few seconds (measured: ~10 s), which is the
  // state a pooler holding idle clients lives in. A C pooler reads the same both times.
  let afterKiB = null;
  let restedKiB = null;
  if (result) {
    await sleep(settleMs);
    afterKiB = await sampleRss(pid);
    await sleep(restMs);
    restedKiB = await sampleRss(pid);
  }
  // Close every socket: stdin "close", then wait for the worker to exit.
  try {
    worker.child.stdin.end('close\n');
  } catch {}
  await Promise.race([worker.exited, sleep(10_000)]);
  await stopProcess(worker, 3000);
  await sleep(1500); // let the pooler reap the closed sockets before the next measurement

  const ready = result?.ready ?? 0;
  const alive = target.proc.child.exitCode === null && target.proc.child.signalCode === null;
  return {
    count,
    ready,
    failed: result ? result.failed + (result.dropped ?? 0) : count,
    beforeKiB,
    afterKiB,
    restedKiB,
    kibPerClient: result && ready > 0 && afterKiB !== null ? (afterKiB - beforeKiB) / ready : null,
    restedKibPerClient: result && ready > 0 && restedKiB !== null ? (restedKiB - beforeKiB) / ready : null,
    firstError: alive ? (result?.firstError ?? (result ? null : 'idle-client worker gave no result')) : `${target.name} died during the idle test`,
    elapsedMs: result?.elapsedMs ?? null,
  };
}
