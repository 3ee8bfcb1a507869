// Markdown report: the tps/CPU table, idle-client RSS, and the goals.

export const TARGET_TITLES = { direct: 'direct', pgbouncer: 'pgbouncer', weir: 'weir' };

export function scenarioLabel(s) {
  return `-S -M ${s.mode}${s.reconnect ? ' -C' : ''} -c ${s.clients}`;
}

const fmtTps = (r) => (r ? Math.round(r.tps).toLocaleString('en-US') : '');
const fmtRatio = (x) => (x == null || !Number.isFinite(x) ? '—' : `${x.toFixed(2)}×`);
function fmtCpu(x) {
  if (x == null || !Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  return x >= 0.1 ? x.toFixed(3) : x.toPrecision(3);
}

/** tps of a successful result, else null */
const okTps = (r) => (r && r.ok && r.tps != null ? r.tps : null);

function cell(results, errors, targetState, s, t) {
  const st = targetState[t];
  if (!st.selected) return 'not run';
  const r = results.get(key(s, t));
  if (!r) return st.available ? '—' : 'n/a';
  if (r.ok) return fmtTps(r);
  const n = errors.push({ target: t, scenario: scenarioLabel(s), error: r.error });
  return `failed [${n}]`;
}

export const key = (s, t) => `${scenarioLabel(s)}|${t}`;

/**
 * @param {object} o
 * @param {Array} o.scenarios
 * @param {Map} o.results key(s,t) -> pgbench result (+ cpuPer1k)
 * @param {object} o.targetState name -> { selected, available, reason, version, variant }
 * @param {object} o.idle name -> measureIdleRss result
 * @param {object} o.meta header facts
 */
export function renderReport({ scenarios, results, targetState, idle, meta }) {
  const L = [];
  const errors = [];
  L.push(`# weir bench — ${meta.date}`);
  L.push('');
  L.push(
    `pgbench -S (point SELECT), scale ${meta.scale}, ${meta.seconds} s per run, -j ${meta.threads}, targets interleaved round-robin per scenario. ` +
      `Machine: ${meta.cpus} CPUs, Node ${meta.node}, PostgreSQL ${meta.pgVersion}; 1-min load average ${meta.load} (other work on the machine skews tps).`,
  );
  for (const t of ['pgbouncer', 'weir']) {
    const st = targetState[t];
    if (!st.selected) continue;
    if (st.available || st.ranOnce) L.push(`- ${t}: ${st.describe}`);
    else L.push(`- ${t}: **not available** — ${st.reason}`);
  }
  L.push('');
  L.push('| scenario | direct tps | pgbouncer tps | weir tps | weir/pgbouncer | weir/direct | weir CPU s/1k tx | pgbouncer CPU s/1k tx |');
  L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const s of scenarios) {
    const rd = results.get(key(s, 'direct'));
    const rp = results.get(key(s, 'pgbouncer'));
    const rw = results.get(key(s, 'weir'));
    const wt = okTps(rw);
    const pt = okTps(rp);
    const dt = okTps(rd);
    L.push(
      `| ${scenarioLabel(s)} | ${cell(results, errors, targetState, s, 'direct')} | ${cell(results, errors, targetState, s, 'pgbouncer')} | ${cell(results, errors, targetState, s, 'weir')} | ` +
        `${fmtRatio(wt && pt ? wt / pt : null)} | ${fmtRatio(wt && dt ? wt / dt : null)} | ${fmtCpu(rw?.ok ? rw.cpuPer1k : null)} | ${fmtCpu(rp?.ok ? rp.cpuPer1k : null)} |`,
    );
  }
  if (errors.length) {
    L.push('');
    for (const [i, e] of errors.entries()) L.push(`${i + 1}. ${e.target}, \`${e.scenario}\`: ${e.error}`);
  }

  // Idle clients
  const idleTargets = ['pgbouncer', 'weir'].filter((t) => idle[t]);
  if (idleTargets.length) {
    L.push('');
    L.push('| idle clients | logged in / asked | RSS before | RSS after logins | KiB per idle client | RSS rested | KiB per idle client, rested |');
    L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const t of idleTargets) {
      const r = idle[t];
      const mib = (k) => (k == null ? '—' : `${(k / 1024).toFixed(1)} MiB`);
      const kib = (k) => (k == null ? '—' : k.toFixed(2));
      L.push(
        `| ${t} | ${r.ready.toLocaleString('en-US')} / ${r.count.toLocaleString('en-US')} | ${mib(r.beforeKiB)} | ${mib(r.afterKiB)} | ${kib(r.kibPerClient)} | ${mib(r.restedKiB)} | ${kib(r.restedKibPerClient)} |`,
      );
    }
    L.push('');
    L.push('"After logins": 2 s after the last login. "Rested": 13 s later, once V8\'s memory reducer has collected the logins\' garbage (a C pooler reads the same both times); the goal is judged on the rested reading.');
    const notes = idleTargets.filter((t) => idle[t].firstError);
    for (const t of notes) L.push(`- ${t} idle clients: ${idle[t].failed} failed; first error: ${idle[t].firstError}`);
  }

  // Goals
  L.push('');
  L.push('## Goals');
  L.push('');
  for (const g of goals({ scenarios, results, idle })) L.push(`- ${g.status} — ${g.text}`);
  L.push('');
  return L.join('\n');
}

function goals({ scenarios, results, idle }) {
  const out = [];
  const find = (mode, clients, reconnect = false) =>
    scenarios.find((s) => s.mode === mode && s.clients === clients && !!s.reconnect === reconnect);
  const tps = (s, t) => (s ? okTps(results.get(key(s, t))) : null);
  const verdict = (ok) => (ok ? 'PASS' : 'FAIL');

  // 1. tps >= 1.0x PgBouncer at 40/120/500 clients and on -C
  for (const s of scenarios) {
    if (!s.reconnect && ![40, 120, 500].includes(s.clients)) continue;
    const w = tps(s, 'weir');
    const p = tps(s, 'pgbouncer');
    const label = `weir tps ≥ 1.0× PgBouncer, \`${scenarioLabel(s)}\``;
    if (w != null && p != null) out.push({ status: verdict(w >= p), text: `${label}: ${fmtRatio(w / p)}` });
    else if (w != null && results.get(key(s, 'pgbouncer'))?.ok === false)
      out.push({ status: 'PASS', text: `${label}: PgBouncer failed this scenario, weir ran it` });
    else out.push({ status: 'n/a', text: `${label}: not measured for both` });
  }

  // 2. CPU per transaction <= PgBouncer's
  let wSum = 0;
  let pSum = 0;
  let wTx = 0;
  let pTx = 0;
  let both = 0;
  let better = 0;
  for (const s of scenarios) {
    const rw = results.get(key(s, 'weir'));
    const rp = results.get(key(s, 'pgbouncer'));
    if (!(rw?.ok && rp?.ok && rw.cpuPer1k != null && rp.cpuPer1k != null)) continue;
    both++;
    if (rw.cpuPer1k <= rp.cpuPer1k) better++;
    wSum += rw.cpuSeconds;
    pSum += rp.cpuSeconds;
    wTx += rw.transactions;
    pTx += rp.transactions;
  }
  if (both) {
    const w = (wSum / wTx) * 1000;
    const p = (pSum / pTx) * 1000;
    out.push({
      status: verdict(better === both),
      text: `weir CPU per transaction ≤ PgBouncer's: ${better}/${both} scenarios; overall ${fmtCpu(w)} vs ${fmtCpu(p)} s/1k tx (${fmtRatio(w / p)})`,
    });
  } else out.push({ status: 'n/a', text: "weir CPU per transaction ≤ PgBouncer's: not measured for both" });

  // 3. <= 2 KiB per idle client
  if (idle.weir?.kibPerClient != null) {
    const k = idle.weir.restedKibPerClient ?? idle.weir.kibPerClient;
    const pg = idle.pgbouncer?.restedKibPerClient ?? idle.pgbouncer?.kibPerClient;
    out.push({
      status: k < 0 ? 'n/a' : verdict(k <= 2 && idle.weir.ready === idle.weir.count),
      text: `weir ≤ 2 KiB per idle client: ${k.toFixed(2)} KiB rested (${idle.weir.kibPerClient.toFixed(2)} right after the logins) with ${idle.weir.ready.toLocaleString('en-US')} of ${idle.weir.count.toLocaleString('en-US')} idle clients${pg != null ? ` (PgBouncer ${pg.toFixed(2)} KiB)` : ''}${k < 0 ? ' — RSS fell (GC noise): use more idle clients' : ''}`,
    });
  } else out.push({ status: 'n/a', text: 'weir ≤ 2 KiB per idle client: not measured' });

  // 4. -M prepared weir >= 1.3x PgBouncer -M simple at 120
  {
    const w = tps(find('prepared', 120), 'weir');
    const p = tps(find('simple', 120), 'pgbouncer');
    const label = 'weir `-M prepared` ≥ 1.3× PgBouncer `-M simple` at 120 clients';
    out.push(w != null && p != null ? { status: verdict(w >= 1.3 * p), text: `${label}: ${fmtRatio(w / p)}` } : { status: 'n/a', text: `${label}: not measured` });
  }
  // 5. -M prepared weir >= 0.8x direct -M prepared at 40
  {
    const s = find('prepared', 40);
    const w = tps(s, 'weir');
    const d = tps(s, 'direct');
    const label = 'weir `-M prepared` ≥ 0.8× direct `-M prepared` at 40 clients';
    out.push(w != null && d != null ? { status: verdict(w >= 0.8 * d), text: `${label}: ${fmtRatio(w / d)}` } : { status: 'n/a', text: `${label}: not measured` });
  }
  return out;
}
