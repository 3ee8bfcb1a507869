// One bounded pgbench run (point SELECT, -S) and the parse of its report.
import path from 'node:path';
import { firstLine, run } from './util.mjs';
import { PG_BIN, BENCH_DB, BENCH_PASSWORD, BENCH_USER } from './postgres.mjs';

/**
 * @param {{port:number, clients:number, mode:'simple'|'extended'|'prepared', reconnect?:boolean, seconds:number, threads?:number}} o
 */
export async function runPgbench(o) {
  const threads = Math.max(1, Math.min(o.threads ?? 2, o.clients));
  const args = [
    '-n', // no vacuum: the tables were vacuumed after -i
    '-S',
    '-M', o.mode,
    '-c', String(o.clients),
    '-j', String(threads),
    '-T', String(o.seconds),
    ...(o.reconnect ? ['-C'] : []),
    '-h', '127.0.0.1',
    '-p', String(o.port),
    '-U', BENCH_USER,
    BENCH_DB,
  ];
  const r = await run(path.join(PG_BIN, 'pgbench'), args, {
    nofile: true,
    env: { ...process.env, PGPASSWORD: BENCH_PASSWORD, PGCONNECT_TIMEOUT: '30', PGAPPNAME: 'weir-bench' },
    timeoutMs: (o.seconds + 90) * 1000,
    name: 'pgbench',
  });
  return parsePgbench(r, o);
}

export function parsePgbench(r, o = {}) {
  const out = r.stdout ?? '';
  const err = r.stderr ?? '';
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : null;
  };
  const tps = num(/^tps = ([\d.]+)/m);
  const transactions = num(/^number of transactions actually processed: (\d+)/m);
  const failedTx = num(/^number of failed transactions: (\d+)/m) ?? 0;
  const latencyMs = num(/^latency average = ([\d.]+) ms/m);
  const aborted = /Run was aborted|aborted in command|client \d+ aborted/i.test(err);
  let error = null;
  if (r.timedOut) error = `pgbench did not finish within ${o.seconds ?? '?'} s + 90 s and was killed`;
  else if (r.code !== 0 || aborted || tps === null) {
    error =
      firstLine(err, /error|fatal|could not|aborted/i) ||
      firstLine(out, /error|fatal/i) ||
      `pgbench exited with ${r.code ?? r.signal}`;
    error = error.replace(/pgbench:\s*/g, '').replace(/^error:\s*/i, '');
  }
  return {
    ok: error === null,
    tps,
    transactions,
    failedTx,
    latencyMs,
    error,
    exitCode: r.code,
  };
}
