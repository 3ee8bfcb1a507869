/**
 * The admin console as PgBouncer tools read it (issue 14, item 1): database `pgbouncer`, PgBouncer
 * 1.24's columns for every SHOW a monitoring agent issues, several commands in one query, and
 * PAUSE/RESUME/DISABLE/ENABLE/KILL/KILL_CLIENT/RECONNECT/WAIT_CLOSE scoped to the database named.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWeir } from '@weir/testkit';
import { sleep, startStack, USERS, type Stack, type WeirInstance } from './helpers.js';

let stack: Stack;
let weir: WeirInstance;
let admin: pg.Client;

beforeAll(async () => {
  stack = await startStack({ name: 'e2e-admin-pgbouncer' });
  // A second database entry (to PostgreSQL's `postgres`) so that scoping can be seen.
  const [stored] = await stack.cluster.query<{ rolpassword: string }>(`SELECT rolpassword FROM pg_authid WHERE rolname = $1`, [USERS.md5.name]);
  const config = stack.config.replace('\npools:\n', `\npools:\n  otherdb:\n    server_host: 127.0.0.1\n    server_port: ${stack.cluster.port}\n` +
    `    server_database: postgres\n    pool_size: 2\n    users:\n      - username: ${USERS.md5.name}\n        password: "${stored!.rolpassword}"\n`);
  weir = await startWeir({ config });
  admin = new pg.Client({ host: '127.0.0.1', port: weir.port, user: 'admin', password: 'admin', database: 'pgbouncer' });
  await admin.connect();
});

afterAll(async () => {
  await admin?.end().catch(() => {});
  await weir?.stop();
  await stack?.stop();
});

const client = async (database = 'appdb') => {
  const c = new pg.Client({ ...stack.conn(USERS.md5, database), port: weir.port, connectionTimeoutMillis: 10_000 });
  c.on('error', () => {});
  await c.connect();
  return c;
};
const show = async (what: string) => {
  const r = await admin.query(`SHOW ${what}`);
  return { columns: r.fields.map((f) => f.name), rows: r.rows as Record<string, string>[] };
};

// PgBouncer 1.24's columns, in order.
const PGBOUNCER_124: Record<string, string[]> = {
  POOLS: ['database', 'user', 'cl_active', 'cl_waiting', 'cl_active_cancel_req', 'cl_waiting_cancel_req', 'sv_active', 'sv_active_cancel',
    'sv_being_canceled', 'sv_idle', 'sv_used', 'sv_tested', 'sv_login', 'maxwait', 'maxwait_us', 'pool_mode', 'load_balance_hosts'],
  STATS: ['database', 'total_xact_count', 'total_query_count', 'total_server_assignment_count', 'total_received', 'total_sent',
    'total_xact_time', 'total_query_time', 'total_wait_time', 'total_client_parse_count', 'total_server_parse_count', 'total_bind_count',
    'avg_xact_count', 'avg_query_count', 'avg_server_assignment_count', 'avg_recv', 'avg_sent', 'avg_xact_time', 'avg_query_time',
    'avg_wait_time', 'avg_client_parse_count', 'avg_server_parse_count', 'avg_bind_count'],
  DATABASES: ['name', 'host', 'port', 'database', 'force_user', 'pool_size', 'min_pool_size', 'reserve_pool_size', 'server_lifetime',
    'pool_mode', 'load_balance_hosts', 'max_connections', 'current_connections', 'max_client_connections', 'current_client_connections',
    'paused', 'disabled'],
  CLIENTS: ['type', 'user', 'database', 'replication', 'state', 'addr', 'port', 'local_addr', 'local_port', 'connect_time', 'request_time',
    'wait', 'wait_us', 'close_needed', 'ptr', 'link', 'remote_pid', 'tls', 'application_name', 'prepared_statements', 'id'],
  SERVERS: ['type', 'user', 'database', 'replication', 'state', 'addr', 'port', 'local_addr', 'local_port', 'connect_time', 'request_time',
    'wait', 'wait_us', 'close_needed', 'ptr', 'link', 'remote_pid', 'tls', 'application_name', 'prepared_statements', 'id'],
  LISTS: ['list', 'items'],
  USERS: ['name', 'pool_size', 'reserve_pool_size', 'pool_mode', 'max_user_connections', 'current_connections', 'max_user_client_connections',
    'current_client_connections'],
  MEM: ['name', 'size', 'used', 'free', 'memtotal'],
  STATS_TOTALS: ['database', 'server_assignment_count', 'xact_count', 'query_count', 'bytes_received', 'bytes_sent', 'xact_time', 'query_time',
    'wait_time', 'client_parse_count', 'server_parse_count', 'bind_count'],
  STATS_AVERAGES: ['database', 'server_assignment_count', 'xact_count', 'query_count', 'bytes_received', 'bytes_sent', 'xact_time', 'query_time',
    'wait_time', 'client_parse_count', 'server_parse_count', 'bind_count'],
  CONFIG: ['key', 'value', 'default', 'changeable'],
  VERSION: ['version'],
};

describe('what PgBouncer tools read', () => {
  it('every SHOW has PgBouncer 1.24\'s columns first, in its order', async () => {
    for (const [what, cols] of Object.entries(PGBOUNCER_124)) {
      const { columns } = await show(what);
      expect(columns.slice(0, cols.length), what).toEqual(cols);
    }
  });

  it('SHOW VERSION reads as PgBouncer\'s (exporters parse it); the figures are real', async () => {
    expect((await show('VERSION')).rows[0]!.version).toMatch(/^PgBouncer 1\.24\.\d+ \(weir \d+\.\d+\.\d+\)$/);
    const c = await client();
    for (let i = 0; i < 4; i++) await c.query('SELECT pg_sleep(0.01)');
    await c.end();
    const stats = (await show('STATS')).rows.find((r) => r.database === 'appdb')!;
    expect(Number(stats.total_xact_count)).toBeGreaterThanOrEqual(4);
    expect(Number(stats.total_query_count)).toBeGreaterThanOrEqual(4);
    expect(Number(stats.total_xact_time)).toBeGreaterThanOrEqual(4 * 10_000); // µs: four 10 ms sleeps at least
    expect(Number(stats.total_received)).toBeGreaterThan(0);
    const db = (await show('DATABASES')).rows.find((r) => r.name === 'otherdb')!;
    expect(db).toMatchObject({ database: 'postgres', pool_size: '2', paused: '0', disabled: '0' });
    const me = (await show('CLIENTS')).rows.filter((r) => r.user === 'admin');
    expect(me.map((r) => r.state)).toEqual(['active']);
  });

  it('several commands in one query; an unknown one ends it with an error', async () => {
    const r = await admin.query('SHOW VERSION; SHOW LISTS') as unknown as pg.QueryResult[];
    expect(r).toHaveLength(2);
    expect(r[1]!.rows.some((x) => x.list === 'pools')).toBe(true);
    await expect(admin.query('SHOW VERSION; NONSENSE; SHOW POOLS')).rejects.toMatchObject({ code: '42601' });
  });

  it('a database name that is not configured is an error naming it', async () => {
    for (const cmd of ['PAUSE nosuch', 'RESUME nosuch', 'KILL nosuch', 'DISABLE nosuch', 'RECONNECT nosuch']) {
      await expect(admin.query(cmd), cmd).rejects.toThrow(/no such database: nosuch/);
    }
  });
});

describe('commands scoped like PgBouncer\'s', () => {
  it('PAUSE appdb holds appdb only; RESUME appdb lets it go on', async () => {
    await admin.query('PAUSE appdb');
    const a = await client('appdb');
    const o = await client('otherdb');
    expect((await o.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    let done = false;
    const pending = a.query('SELECT 2 AS two').then((r) => { done = true; return r; });
    await sleep(500);
    expect(done).toBe(false);
    expect((await show('DATABASES')).rows.find((r) => r.name === 'appdb')!.paused).toBe('1');
    await admin.query('RESUME appdb');
    expect((await pending).rows).toEqual([{ two: 2 }]);
    await a.end();
    await o.end();
  });

  it('DISABLE refuses new logins to that database only; ENABLE lets them in again', async () => {
    await admin.query('DISABLE otherdb');
    await expect(client('otherdb')).rejects.toThrow(/does not allow connections/);
    const a = await client('appdb');
    await a.end();
    await admin.query('ENABLE otherdb');
    const o = await client('otherdb');
    await o.end();
  });

  it('KILL_CLIENT ends one client; KILL db ends that database\'s clients and holds it until RESUME', async () => {
    const a = await client('appdb');
    const b = await client('appdb');
    const o = await client('otherdb');
    const pidOf = async (c: pg.Client) => {
      const name = `e2e-${Math.random().toString(36).slice(2)}`;
      await c.query(`SET application_name = '${name}'`);
      return (await show('CLIENTS')).rows.find((r) => r.application_name === name)!.id;
    };
    await admin.query(`KILL_CLIENT ${await pidOf(a)}`);
    await expect(a.query('SELECT 1')).rejects.toThrow();
    expect((await b.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await admin.query('KILL appdb');
    await expect(b.query('SELECT 1')).rejects.toThrow();
    expect((await o.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect((await show('DATABASES')).rows.find((r) => r.name === 'appdb')!.paused).toBe('1');
    await admin.query('RESUME appdb');
    const c = await client('appdb');
    expect((await c.query('SELECT 3 AS three')).rows).toEqual([{ three: 3 }]);
    await c.end();
    await o.end();
  });

  it('RECONNECT db replaces its server connections; WAIT_CLOSE returns once the old ones are gone', async () => {
    const c = await client('appdb');
    const before = (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p;
    await admin.query('RECONNECT appdb');
    await admin.query('WAIT_CLOSE appdb');
    const after = (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p;
    expect(after).not.toBe(before);
    await c.end();
  });
});
