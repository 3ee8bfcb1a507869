import tls from 'node:tls';
import { proxyGeneralSchema } from '../config/general.js';
import type { ServerConnection } from '../server/connection.js';
import type { ClientSession } from '../client/session.js';
import type { Proxy } from '../proxy.js';
import type { Averages } from './averages.js';
import { totalsByDatabase, type Totals } from './totals.js';

type Cell = string | number | boolean | null;
export interface Table { columns: readonly string[]; rows: Cell[][] }

/** PgBouncer's default server_check_delay: idle longer than this counts as `used` (PgBouncer's meaning). */
const CHECK_DELAY_MS = 30_000;
const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
const hex = (n: number) => `0x${n.toString(16)}`;
const flag = (b: boolean) => (b ? 1 : 0);

/**
 * The admin SHOW tables with PgBouncer 1.24's columns, names and meanings (weir's own columns
 * after them). A figure weir does not have (cancel-request counts, DNS) is 0, as on a PgBouncer
 * that has none; nothing is made up.
 */
export class ShowTables {
  constructor(private readonly p: Proxy, private readonly averages: Averages, private readonly version: string) {}

  private entries() {
    return this.p.kernel.registry.entries();
  }

  pools(): Table {
    const now = this.p.kernel.clock.now();
    const rows = this.entries().map((e) => {
      const s = e.pool.stats();
      const cl = this.p.clientCounts(e.pool);
      let used = 0;
      for (const c of e.pool.connections()) if (c.state === 'idle' && now - c.lastUsedAt >= CHECK_DELAY_MS) used++;
      const wait = s.maxWaitMs * 1000;
      return [e.key.database, e.key.user, cl.active, cl.waiting, 0, 0, s.active, 0, 0, s.idle - used, used, 0, s.pending,
        Math.floor(wait / 1e6), Math.round(wait % 1e6), this.p.poolMode(e.key.database), null, e.pool.options.max, e.kind === 'dynamic'] as Cell[];
    });
    return { columns: ['database', 'user', 'cl_active', 'cl_waiting', 'cl_active_cancel_req', 'cl_waiting_cancel_req', 'sv_active',
      'sv_active_cancel', 'sv_being_canceled', 'sv_idle', 'sv_used', 'sv_tested', 'sv_login', 'maxwait', 'maxwait_us', 'pool_mode',
      'load_balance_hosts', 'pool_size', 'dynamic'], rows };
  }

  private totals(): Map<string, Totals> {
    return totalsByDatabase(this.entries().map((e) => ({ database: e.key.database, counters: this.p.counters(e.pool), stats: e.pool.stats() })));
  }

  stats(): Table {
    const rows: Cell[][] = [];
    for (const [db, t] of this.totals()) {
      const a = this.averages.of(db);
      rows.push([db, t.xacts, t.queries, t.assignments, t.received, t.sent, t.xactMicros, t.queryMicros, t.waitMicros, t.parses, t.parses, t.binds,
        a.xacts, a.queries, a.assignments, a.received, a.sent, a.xactMicros, a.queryMicros, a.waitMicros, a.parses, a.parses, a.binds]);
    }
    return { columns: ['database', 'total_xact_count', 'total_query_count', 'total_server_assignment_count', 'total_received', 'total_sent',
      'total_xact_time', 'total_query_time', 'total_wait_time', 'total_client_parse_count', 'total_server_parse_count', 'total_bind_count',
      'avg_xact_count', 'avg_query_count', 'avg_server_assignment_count', 'avg_recv', 'avg_sent', 'avg_xact_time', 'avg_query_time',
      'avg_wait_time', 'avg_client_parse_count', 'avg_server_parse_count', 'avg_bind_count'], rows };
  }

  statsTotals(averages: boolean): Table {
    const rows: Cell[][] = [];
    for (const [db, total] of this.totals()) {
      const t = averages ? this.averages.of(db) : total;
      rows.push([db, t.assignments, t.xacts, t.queries, t.received, t.sent, t.xactMicros, t.queryMicros, t.waitMicros, t.parses, t.parses, t.binds]);
    }
    return { columns: ['database', 'server_assignment_count', 'xact_count', 'query_count', 'bytes_received', 'bytes_sent', 'xact_time',
      'query_time', 'wait_time', 'client_parse_count', 'server_parse_count', 'bind_count'], rows };
  }

  databases(): Table {
    const cfg = this.p.config;
    const g = cfg.general;
    const budgets = new Map(this.p.budgets.list().filter((b) => b.kind === 'database').map((b) => [b.name, b]));
    const clients = new Map<string, number>();
    for (const s of this.p.sessions) if (!s.isAdmin) clients.set(s.database, (clients.get(s.database) ?? 0) + 1);
    const rows: Cell[][] = Object.entries(cfg.pools).map(([name, pool]) => [name, pool.server_host, pool.server_port, pool.server_database ?? name,
      null, pool.pool_size, pool.min_pool_size, pool.reserve_pool_size ?? g.reserve_pool_size, Math.round(g.server_lifetime / 1000), pool.pool_mode,
      null, pool.max_db_connections ?? g.max_db_connections, budgets.get(name)?.used ?? 0, 0, clients.get(name) ?? 0,
      flag(this.p.control.isPaused(name)), flag(this.p.control.isDisabled(name))]);
    rows.push(['pgbouncer', null, this.p.address?.port ?? g.port, 'pgbouncer', 'pgbouncer', 2, 0, 0, 0, 'statement', null, 0, 0, 0,
      [...this.p.sessions].filter((s) => s.isAdmin).length, 0, 0]);
    return { columns: ['name', 'host', 'port', 'database', 'force_user', 'pool_size', 'min_pool_size', 'reserve_pool_size', 'server_lifetime',
      'pool_mode', 'load_balance_hosts', 'max_connections', 'current_connections', 'max_client_connections', 'current_client_connections',
      'paused', 'disabled'], rows };
  }

  users(): Table {
    const cfg = this.p.config;
    const g = cfg.general;
    const used = new Map(this.p.budgets.list().filter((b) => b.kind === 'user').map((b) => [b.name, b.used]));
    const clients = new Map<string, number>();
    for (const s of this.p.sessions) if (!s.isAdmin && s.user) clients.set(s.user, (clients.get(s.user) ?? 0) + 1);
    const names = new Set<string>([...used.keys(), ...this.entries().map((e) => e.key.user)]);
    const rows: Cell[][] = [...names].sort().map((name) => [name, null, null, null, g.max_user_connections, used.get(name) ?? 0, 0, clients.get(name) ?? 0]);
    return { columns: ['name', 'pool_size', 'reserve_pool_size', 'pool_mode', 'max_user_connections', 'current_connections',
      'max_user_client_connections', 'current_client_connections'], rows };
  }

  lists(): Table {
    const sessions = [...this.p.sessions];
    let servers = 0;
    for (const e of this.entries()) servers += e.pool.stats().size;
    const users = new Set(this.entries().map((e) => e.key.user));
    return { columns: ['list', 'items'], rows: [
      ['databases', Object.keys(this.p.config.pools).length + 1], ['users', users.size], ['peers', 0], ['pools', this.entries().length],
      ['peer_pools', 0], ['free_clients', 0], ['used_clients', sessions.filter((s) => s.state !== 'login').length],
      ['login_clients', sessions.filter((s) => s.state === 'login').length], ['free_servers', 0], ['used_servers', servers],
      ['dns_names', 0], ['dns_zones', 0], ['dns_queries', 0], ['dns_pending', 0],
    ] };
  }

  clients(): Table {
    const rows = [...this.p.sessions].map((s) => clientRow(s));
    return { columns: ['type', 'user', 'database', 'replication', 'state', 'addr', 'port', 'local_addr', 'local_port', 'connect_time',
      'request_time', 'wait', 'wait_us', 'close_needed', 'ptr', 'link', 'remote_pid', 'tls', 'application_name', 'prepared_statements', 'id',
      'pid', 'server_id'], rows };
  }

  servers(): Table {
    const rows: Cell[][] = [];
    for (const e of this.entries()) {
      for (const c of e.pool.connections()) {
        const server = c.pooled.connection as ServerConnection;
        const sock = server.socket;
        const owner = server.owner as ClientSession | null;
        rows.push(['S', e.key.user, e.key.database, 'none', c.state === 'closing' ? 'used' : c.state, server.address.host, server.address.port,
          sock.localAddress ?? null, sock.localPort ?? null, iso(c.pooled.createdAt), iso(c.lastUsedAt), 0, 0, 0, hex(c.pooled.id),
          owner && 'pid' in owner ? hex(owner.pid) : null, server.backendPid, sock instanceof tls.TLSSocket ? String(sock.getProtocol() ?? 'TLS') : '',
          server.params.get('application_name') ?? '', 0, c.pooled.id, server.address.user, server.backendPid]);
      }
    }
    return { columns: ['type', 'user', 'database', 'replication', 'state', 'addr', 'port', 'local_addr', 'local_port', 'connect_time',
      'request_time', 'wait', 'wait_us', 'close_needed', 'ptr', 'link', 'remote_pid', 'tls', 'application_name', 'prepared_statements', 'id',
      'server_user', 'backend_pid'], rows };
  }

  mem(): Table {
    const m = process.memoryUsage();
    return { columns: ['name', 'size', 'used', 'free', 'memtotal'], rows: [
      ['client_sessions', 1, this.p.sessions.size, 0, this.p.sessions.size],
      ['js_heap', 1, m.heapUsed, m.heapTotal - m.heapUsed, m.heapTotal],
      ['buffers', 1, m.arrayBuffers, 0, m.arrayBuffers],
      ['rss', 1, m.rss, 0, m.rss],
    ] };
  }

  config(): Table {
    const g = this.p.kernel.config.general as unknown as Record<string, unknown>;
    const defaults = proxyGeneralSchema.parse({}) as unknown as Record<string, unknown>;
    const fixed = new Set(['host', 'port', 'unix_socket_dir', 'metrics_port', 'metrics_host']);
    const text = (v: unknown) => (v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
    return { columns: ['key', 'value', 'default', 'changeable'], rows: Object.entries(g)
      .filter(([k]) => !k.includes('password') && !k.includes('private_key'))
      .map(([k, v]) => [k, text(v), text(defaults[k]), fixed.has(k) ? 'no' : 'yes']) };
  }

  versionTable(): Table {
    return { columns: ['version'], rows: [[`PgBouncer 1.24.0 (weir ${this.version})`]] };
  }
}

function clientRow(s: ClientSession): Cell[] {
  const sock = s.socket;
  const wait = s.waitingMs * 1000;
  return ['C', s.user, s.database, 'none', s.state, sock.remoteAddress ?? 'unix', sock.remotePort ?? 0, sock.localAddress ?? null,
    sock.localPort ?? null, iso(s.connectedAt), iso(s.connectedAt), Math.floor(wait / 1e6), Math.round(wait % 1e6), 0, hex(s.pid),
    s.server ? hex(s.server.id) : null, 0, sock instanceof tls.TLSSocket ? String(sock.getProtocol() ?? 'TLS') : '',
    s.params.get('application_name') ?? '', 0, s.pid, s.pid, s.server?.id ?? null];
}

