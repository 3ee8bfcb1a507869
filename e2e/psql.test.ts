/**
 * psql through weir (three kinds of configured password), the admin console, auth and
 * database errors, and the `weir` CLI (`check`, `--help`, `--version`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultWeirBin } from '@weir/testkit';
import { adminShow, psql, queryOnce, rejection, run, startStack, USERS, type Stack } from './helpers.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ name: 'e2e-psql', poolMode: 'transaction', poolSize: 4 });
});

afterAll(async () => {
  await stack?.stop();
});

describe('psql through weir', () => {
  for (const [kind, user] of [
    ['md5 hash in config', USERS.md5],
    ['plaintext in config (client asked for SCRAM)', USERS.plain],
    ['SCRAM verifier in config', USERS.scram],
  ] as const) {
    it(`select 1 as ${user.name} (${kind})`, async () => {
      const r = await psql(stack.weir.port, { user: user.name, password: user.password, sql: 'select 1' });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe('1');
    });

    it(`current_user is ${user.name} on the server (${kind})`, async () => {
      const r = await psql(stack.weir.port, {
        user: user.name,
        password: user.password,
        sql: 'select current_user, current_database()',
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(`${user.name}|appdb`);
    });
  }

  it('several statements and a multi-row result in one psql session', async () => {
    const r = await psql(stack.weir.port, {
      user: USERS.md5.name,
      password: USERS.md5.password,
      args: ['-c', 'create temp table t(x int)', '-c', 'select g from generate_series(1,5) g', '-c', 'select 42'],
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['CREATE TABLE', '1', '2', '3', '4', '5', '42']);
  });

  it('SQL errors come back with their SQLSTATE and the session goes on', async () => {
    const client = new pg.Client(stack.conn());
    await client.connect();
    try {
      const e = await rejection(client.query('select * from no_such_table'));
      expect(e.code).toBe('42P01');
      const e2 = await rejection(client.query('select 1/0'));
      expect(e2.code).toBe('22012');
      expect((await client.query('select 7 as n')).rows[0].n).toBe(7);
    } finally {
      await client.end();
    }
  });
});

describe('authentication and routing errors', () => {
  for (const user of [USERS.md5, USERS.plain, USERS.scram]) {
    it(`wrong password for ${user.name}: psql fails with a password error`, async () => {
      const r = await psql(stack.weir.port, { user: user.name, password: 'wrong-password', sql: 'select 1' });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/FATAL/);
      expect(r.stderr).toMatch(/password authentication failed/);
      expect(r.stdout).toBe('');
    });

    it(`wrong password for ${user.name}: node-postgres gets SQLSTATE 28P01`, async () => {
      const e = await rejection(queryOnce({ ...stack.conn(user), password: 'wrong-password' }, 'select 1'));
      expect(e.code).toBe('28P01');
    });
  }

  it('unknown user gets an authentication error, not a connection to the server', async () => {
    const e = await rejection(queryOnce({ ...stack.conn(), user: 'nobody', password: 'x' }, 'select 1'));
    expect(['28P01', '28000']).toContain(e.code);
  });

  it('unknown database: SQLSTATE 3D000 (node-postgres) and a psql error', async () => {
    const e = await rejection(queryOnce(stack.conn(USERS.md5, 'no_such_db'), 'select 1'));
    expect(e.code).toBe('3D000');
    const r = await psql(stack.weir.port, {
      user: USERS.md5.name,
      password: USERS.md5.password,
      database: 'no_such_db',
      sql: 'select 1',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no_such_db/);
    expect(r.stderr).toMatch(/does not exist/);
  });

  it('after the failures, good logins still work', async () => {
    const rows = await queryOnce(stack.conn(USERS.scram), 'select 5 as n');
    expect(rows[0].n).toBe(5);
  });
});

describe('admin console (database weir)', () => {
  // PgBouncer 1.24's columns, then weir's own.
  const poolColumns = ['database', 'user', 'cl_active', 'cl_waiting', 'cl_active_cancel_req', 'cl_waiting_cancel_req', 'sv_active',
    'sv_active_cancel', 'sv_being_canceled', 'sv_idle', 'sv_used', 'sv_tested', 'sv_login', 'maxwait', 'maxwait_us', 'pool_mode',
    'load_balance_hosts', 'pool_size', 'dynamic'];

  beforeAll(async () => {
    // Make sure at least one server connection exists.
    await queryOnce(stack.conn(), 'select 1');
  });

  it('SHOW POOLS has the PgBouncer-shaped columns and a row per configured (database, user)', async () => {
    const { columns, rows } = await adminShow(stack.weir.port, 'POOLS');
    expect(columns).toEqual(poolColumns);
    const app = rows.find((r) => r.database === 'appdb' && r.user === USERS.md5.name);
    expect(app, JSON.stringify(rows)).toBeDefined();
    expect(app.pool_mode).toBe('transaction');
    expect(Number(app.pool_size)).toBe(4);
    expect(String(app.dynamic)).toMatch(/^(f|false)$/);
    expect(Number(app.sv_active) + Number(app.sv_idle)).toBeGreaterThanOrEqual(1);
  });

  it('SHOW SERVERS lists server connections with real backend pids', async () => {
    const { columns, rows } = await adminShow(stack.weir.port, 'SERVERS');
    for (const c of ['id', 'user', 'database', 'server_user', 'state', 'addr', 'port', 'backend_pid']) {
      expect(columns).toContain(c);
    }
    const mine = rows.filter((r) => r.database === 'appdb' && r.user === USERS.md5.name);
    expect(mine.length).toBeGreaterThanOrEqual(1);
    const pids = (await stack.cluster.query<{ pid: number }>(
      `select pid from pg_stat_activity where datname = 'appdb' and usename = $1`, [USERS.md5.name],
    )).map((r) => r.pid);
    for (const s of mine) {
      expect(pids).toContain(Number(s.backend_pid));
      expect(Number(s.port)).toBe(stack.cluster.port);
    }
    const ids = rows.map((r) => Number(r.id));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('SHOW CLIENTS includes the asking admin connection', async () => {
    const { columns, rows } = await adminShow(stack.weir.port, 'CLIENTS');
    expect(columns).toEqual(expect.arrayContaining(['user', 'database']));
    expect(rows.some((r) => r.user === 'admin' && r.database === 'weir')).toBe(true);
  });

  it('SHOW STATS, SHOW CONFIG, SHOW VERSION return rows', async () => {
    const stats = await adminShow(stack.weir.port, 'STATS');
    expect(stats.columns).toEqual(expect.arrayContaining(['database', 'total_xact_count', 'avg_wait_time']));
    expect(stats.rows.some((r) => r.database === 'appdb')).toBe(true);

    const config = await adminShow(stack.weir.port, 'CONFIG');
    expect(config.rows.length).toBeGreaterThan(0);
    const flat = JSON.stringify(config.rows);
    expect(flat).toMatch(/query_wait_timeout/);
    expect(flat).not.toMatch(/"admin_password"/);

    const version = await adminShow(stack.weir.port, 'VERSION');
    expect(version.rows).toHaveLength(1);
    const pkgVersion = JSON.parse(readFileSync(join(defaultWeirBin(), '..', '..', 'package.json'), 'utf8')).version;
    expect(JSON.stringify(version.rows[0])).toContain(pkgVersion);
  });

  it('psql can read the admin console', async () => {
    const r = await psql(stack.weir.port, { user: 'admin', password: 'admin', database: 'weir', sql: 'SHOW POOLS' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^appdb\|app\|/m);
  });

  it('an unknown admin command is an ErrorResponse, the console keeps working', async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: stack.weir.port, user: 'admin', password: 'admin', database: 'weir' });
    await client.connect();
    try {
      const e = await rejection(client.query('SHOW NONSENSE'));
      expect(e.code).toMatch(/^[0-9A-Z]{5}$/);
      expect((await client.query('SHOW VERSION')).rows).toHaveLength(1);
    } finally {
      await client.end();
    }
  });

  it('wrong admin password → 28P01', async () => {
    const e = await rejection(
      queryOnce({ host: '127.0.0.1', port: stack.weir.port, user: 'admin', password: 'nope', database: 'weir' }, 'SHOW POOLS'),
    );
    expect(e.code).toBe('28P01');
  });

  it('a pool user cannot use the admin console', async () => {
    const e = await rejection(queryOnce(stack.conn(USERS.md5, 'weir'), 'SHOW POOLS'));
    expect(e.code).toMatch(/^(28|3D)/);
  });
});

describe('weir CLI', () => {
  const bin = defaultWeirBin();
  const dir = mkdtempSync(join(tmpdir(), 'weir-e2e-check-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const weirCli = (...args: string[]) => run(process.execPath, [bin, ...args], { timeoutMs: 60_000 });
  const check = (name: string, yaml: string) => {
    const file = join(dir, name);
    writeFileSync(file, yaml);
    return weirCli('check', '--config', file);
  };
  const lineOf = (yaml: string, needle: string) => yaml.split('\n').findIndex((l) => l.includes(needle)) + 1;
  const mentionsLine = (out: string, line: number) => new RegExp(`(:${line}\\b|line ${line}\\b)`).test(out);

  const valid = `general:
  host: 127.0.0.1
  port: 6432
  admin_user: admin
  admin_password: admin
  query_wait_timeout: 5s
  shutdown_timeout: 10s
  log_level: info
pools:
  appdb:
    server_host: 127.0.0.1
    server_port: 5432
    pool_mode: transaction
    pool_size: 4
    users:
      - username: app
        password: secret
`;

  it('check: a valid config exits 0', async () => {
    const r = await check('valid.yaml', valid);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('check: invalid YAML exits 1 and names the line', async () => {
    const yaml = valid.replace('    pool_size: 4\n', '    pool_size: [4, 5\n');
    const r = await check('bad-yaml.yaml', yaml);
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toContain('bad-yaml.yaml');
    expect(out).toMatch(/(:\d+\b|line \d+)/);
  });

  it('check: a bad pool_mode exits 1 naming pools.appdb.pool_mode and its line', async () => {
    const yaml = valid.replace('pool_mode: transaction', 'pool_mode: statementz');
    const r = await check('bad-mode.yaml', yaml);
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toContain('pools.appdb.pool_mode');
    expect(mentionsLine(out, lineOf(yaml, 'pool_mode:')), out).toBe(true);
  });

  it('check: an auth_query section while the auth_query plugin is disabled exits 1 naming it', async () => {
    const yaml = valid.replace('pools:\n', 'plugins:\n  auth_query: { enabled: false }\npools:\n') +
      `    auth_query:
      query: "SELECT usename, passwd FROM pg_shadow WHERE usename = $1"
      user: postgres
      password: ""
`;
    const r = await check('disabled-plugin.yaml', yaml);
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toContain('pools.appdb.auth_query');
    expect(mentionsLine(out, lineOf(yaml, '    auth_query:')), out).toBe(true);
  });

  it('check: a missing file exits 1', async () => {
    const r = await weirCli('check', '--config', join(dir, 'does-not-exist.yaml'));
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('does-not-exist.yaml');
  });

  it('--help exits 0 and describes start and check', async () => {
    const r = await weirCli('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/start/);
    expect(r.stdout).toMatch(/check/);
    expect(r.stdout).toMatch(/--config/);
  });

  it('--version prints the package version', async () => {
    const r = await weirCli('--version');
    expect(r.code).toBe(0);
    const pkgVersion = JSON.parse(readFileSync(join(bin, '..', '..', 'package.json'), 'utf8')).version;
    expect(r.stdout.trim()).toContain(pkgVersion);
  });
});
