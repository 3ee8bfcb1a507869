/**
 * Connection logs and periodic stats (issue 14, item 3): a line per login and per disconnect with
 * the client's real address, user, database, duration and reason; a per-database stats line
 * every stats_period; both can be turned off.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startStack, USERS, type Stack } from './helpers.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ name: 'e2e-logs' });
});

afterAll(async () => {
  await stack?.stop();
});

const lines = (logs: string[], msg: string) => logs.map((l) => { try { return JSON.parse(l); } catch { return null; } })
  .filter((l) => l !== null && typeof l.msg === 'string' && l.msg.startsWith(msg));

describe('log_connections, log_disconnections, log_stats', () => {
  it('a login and its disconnect are logged with the real address; stats every stats_period', async () => {
    const weir = await stack.startAnotherWeir({ general: { stats_period: '1s' } });
    const c = new pg.Client({ ...stack.conn(), port: weir.port });
    await c.connect();
    const local = (c as unknown as { connection: { stream: { localPort: number } } }).connection.stream.localPort;
    for (let i = 0; i < 20; i++) await c.query('SELECT 1');
    await c.end();
    for (let i = 0; i < 60 && (lines(weir.logs, 'client disconnected').length === 0 || lines(weir.logs, 'stats: appdb').length === 0); i++) await sleep(100);
    const [conn] = lines(weir.logs, 'client connected');
    expect(conn).toMatchObject({ client: `127.0.0.1:${local}`, user: 'app', database: 'appdb', tls: false });
    const [disc] = lines(weir.logs, 'client disconnected');
    expect(disc).toMatchObject({ client: `127.0.0.1:${local}`, user: 'app', database: 'appdb', reason: 'client sent Terminate' });
    expect(disc.duration_ms).toBeGreaterThanOrEqual(0);
    expect(weir.logs.join('\n')).not.toContain('undefined:undefined');
    const [stats] = lines(weir.logs, 'stats: appdb');
    expect(stats.xacts).toBeGreaterThan(0);
  });

  it('off when set false', async () => {
    const weir = await stack.startAnotherWeir({ general: { log_connections: 'false', log_disconnections: 'false', log_stats: 'false', stats_period: '1s' } });
    const c = new pg.Client({ ...stack.conn(), port: weir.port });
    await c.connect();
    await c.query('SELECT 1');
    await c.end();
    await sleep(1_500);
    expect(lines(weir.logs, 'client connected')).toEqual([]);
    expect(lines(weir.logs, 'client disconnected')).toEqual([]);
    expect(lines(weir.logs, 'stats:')).toEqual([]);
  });

  it('log_format pretty: one readable line per event, level names; json (default) has level names too', async () => {
    const weir = await stack.startAnotherWeir({ general: { log_format: 'pretty' } });
    const c = new pg.Client({ ...stack.conn(), port: weir.port });
    await c.connect();
    await c.query('SELECT 1');
    await c.end();
    const line = await weir.waitForLog(/client disconnected/, 10_000);
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO  .*client disconnected.* user=app database=appdb/);
    expect(weir.logs.filter((l) => l.trim().startsWith('{'))).toEqual([]);
    const [json] = lines(stack.weir.logs, 'weir listening');
    expect(json?.level).toBe('info');
  });
});

describe('log_pooler_errors', () => {
  const refused = (port: number, user: { name: string; password: string }, database: string) =>
    new pg.Client({ ...stack.conn(user, database, port) }).connect().then(() => { throw new Error('login succeeded'); }, (e: { code?: string }) => e.code);
  /** A login that succeeds and leaves: its disconnect line is logged after every line before it. */
  const roundTrip = async (port: number) => {
    const c = new pg.Client({ ...stack.conn(undefined, undefined, port) });
    await c.connect();
    const local = (c as unknown as { connection: { stream: { localPort: number } } }).connection.stream.localPort;
    await c.end();
    return local;
  };

  it('on (default): a wrong password, an unknown database and an admin error each give one line with the SQLSTATE', async () => {
    const weir = await stack.startAnotherWeir({});
    expect(await refused(weir.port, { name: USERS.md5.name, password: 'wrong' }, 'appdb')).toBe('28P01');
    expect(await refused(weir.port, USERS.md5, 'nosuchdb')).toBe('3D000');
    const admin = new pg.Client({ ...stack.conn({ name: 'admin', password: 'admin' }, 'weir', weir.port) });
    await admin.connect();
    await expect(admin.query('SHOW NOPE')).rejects.toMatchObject({ code: '42601' });
    await admin.end();
    const local = await roundTrip(weir.port);
    await weir.waitForLog(new RegExp(`client disconnected: .*127\\.0\\.0\\.1:${local}`), 10_000);
    const errors = lines(weir.logs, 'pooler error');
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatchObject({ level: 'info', sqlstate: '28P01', user: 'app', database: 'appdb', msg: 'pooler error: password authentication failed for user "app"' });
    expect(errors[0].client).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(errors[1]).toMatchObject({ sqlstate: '3D000', user: 'app', database: 'nosuchdb', msg: 'pooler error: database "nosuchdb" does not exist' });
    expect(errors[2]).toMatchObject({ sqlstate: '42601', user: 'admin', database: 'weir', command: 'SHOW NOPE' });
  });

  it('off: none of those lines', async () => {
    const weir = await stack.startAnotherWeir({ general: { log_pooler_errors: 'false' } });
    expect(await refused(weir.port, { name: USERS.md5.name, password: 'wrong' }, 'appdb')).toBe('28P01');
    expect(await refused(weir.port, USERS.md5, 'nosuchdb')).toBe('3D000');
    const local = await roundTrip(weir.port);
    await weir.waitForLog(new RegExp(`client disconnected: .*127\\.0\\.0\\.1:${local}`), 10_000);
    expect(lines(weir.logs, 'pooler error')).toEqual([]);
    expect(weir.logs.filter((l) => l.includes('28P01') || l.includes('nosuchdb'))).toEqual([]);
  });

  it('is reloadable (RELOAD applies it); general.port is not (docs/config.md says so: the listener stays)', async () => {
    const weir = await stack.startAnotherWeir({ general: { log_pooler_errors: 'false' } });
    const off = readFileSync(weir.configFile, 'utf8');
    expect(off).toContain('log_pooler_errors: false');
    const other = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address() as net.AddressInfo; s.close(() => resolve(port)); });
    });
    const mark = weir.logs.length;
    await weir.reload(off.replace('log_pooler_errors: false', 'log_pooler_errors: true').replace(`port: ${weir.port}`, `port: ${other}`));
    await weir.waitForLog(/config reloaded/, 10_000, mark);
    expect(await refused(weir.port, { name: USERS.md5.name, password: 'wrong' }, 'appdb')).toBe('28P01');
    const local = await roundTrip(weir.port);
    await weir.waitForLog(new RegExp(`client disconnected: .*127\\.0\\.0\\.1:${local}`), 10_000);
    expect(lines(weir.logs.slice(mark), 'pooler error')).toMatchObject([{ sqlstate: '28P01' }]);
    await expect(roundTrip(other)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
