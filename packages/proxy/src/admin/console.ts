import type { Reports } from '@weir/kernel';
import { readyForQuery } from '@weir/protocol';
import { error, SqlState } from '../client/errors.js';
import { table, reportTable, done } from './table.js';
import type { Proxy } from '../proxy.js';

const VERSION = '0.1.0';

function ms(v: number): string {
  return String(Math.round(v));
}

/** The admin console: database `weir`. SHOW …, RELOAD, PAUSE, RESUME, SHUTDOWN; plugins add SHOW reports. */
export class AdminConsole {
  constructor(private readonly proxy: Proxy, private readonly reports: Reports) {}

  async run(sql: string): Promise<Buffer> {
    const text = sql.trim().replace(/;\s*$/, '').trim();
    const words = text.split(/\s+/);
    const verb = (words[0] ?? '').toUpperCase();
    try {
      switch (verb) {
        case '': return done('EMPTY');
        case 'SHOW': return this.show((words[1] ?? '').toUpperCase());
        case 'RELOAD': {
          const result = await this.proxy.reload();
          if (!result.ok) return this.fail(SqlState.InternalError, `RELOAD failed, running config kept: ${result.error}`);
          return done('RELOAD');
        }
        case 'PAUSE': await this.proxy.pause(); return done('PAUSE');
        case 'RESUME': this.proxy.resume(); return done('RESUME');
        case 'SHUTDOWN': setImmediate(() => void this.proxy.shutdown('fast')); return done('SHUTDOWN');
        default: return this.fail(SqlState.SyntaxError, `unknown admin command "${words[0]}"; try SHOW HELP`);
      }
    } catch (e) {
      return this.fail(SqlState.InternalError, (e as Error).message);
    }
  }

  private fail(code: string, message: string): Buffer {
    return Buffer.concat([error(code, message), readyForQuery('I')]);
  }

  private show(what: string): Buffer {
    const p = this.proxy;
    switch (what) {
      case 'HELP':
        return table(['command'], ['SHOW POOLS', 'SHOW CLIENTS', 'SHOW SERVERS', 'SHOW STATS', 'SHOW CONFIG', 'SHOW VERSION',
          ...this.reports.names().map((n) => `SHOW ${n}`), 'RELOAD', 'PAUSE', 'RESUME', 'SHUTDOWN'].map((c) => [c]));
      case 'VERSION':
        return table(['version'], [[`weir ${VERSION}`]]);
      case 'POOLS': {
        const rows = p.kernel.registry.entries().map((e) => {
          const s = e.pool.stats();
          const cl = p.clientCounts(e.pool);
          return [e.key.database, e.key.user, cl.active, cl.waiting, s.active, s.idle, 0, ms(s.maxWaitMs / 1000),
            p.poolMode(e.key.database), e.pool.options.max, e.kind === 'dynamic'];
        });
        return table(['database', 'user', 'cl_active', 'cl_waiting', 'sv_active', 'sv_idle', 'sv_used', 'maxwait', 'pool_mode', 'pool_size', 'dynamic'], rows);
      }
      case 'CLIENTS':
        return table(['type', 'user', 'database', 'state', 'addr', 'connect_time', 'pid', 'server_id', 'application_name'],
          [...p.sessions].map((s) => ['C', s.user, s.database, s.state, s.remote, new Date(s.connectedAt).toISOString(), s.pid,
            s.server?.id ?? null, s.params.get('application_name') ?? '']));
      case 'SERVERS': {
        const rows: unknown[][] = [];
        for (const e of p.kernel.registry.entries()) {
          for (const c of e.pool.connections()) {
            const server = c.pooled.connection as import('../server/connection.js').ServerConnection;
            rows.push([c.pooled.id, e.key.user, e.key.database, server.address.user, c.state, server.address.host, server.address.port,
              server.backendPid, new Date(c.pooled.createdAt).toISOString(), new Date(c.lastUsedAt).toISOString()]);
          }
        }
        return table(['id', 'user', 'database', 'server_user', 'state', 'addr', 'port', 'backend_pid', 'connect_time', 'last_used'], rows as never);
      }
      case 'STATS': {
        const rows = p.kernel.registry.entries().map((e) => {
          const c = p.counters(e.pool);
          const s = e.pool.stats();
          return [e.key.database, e.key.user, c.xacts, c.queries, c.bytesIn, c.bytesOut, c.waits, c.waits ? Math.round(c.waitMicros / c.waits) : 0,
            s.createdTotal, s.destroyedTotal];
        });
        return table(['database', 'user', 'total_xact_count', 'total_query_count', 'total_received', 'total_sent', 'total_waits',
          'avg_wait_time_us', 'servers_created', 'servers_closed'], rows);
      }
      case 'CONFIG': {
        const g = p.kernel.config.general as unknown as Record<string, unknown>;
        return table(['key', 'value'], Object.entries(g)
          .filter(([k]) => !k.includes('password') && !k.includes('private_key'))
          .map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]));
      }
      default: {
        const source = this.reports.get(what);
        if (source) return reportTable(source());
        return this.fail(SqlState.SyntaxError, `unknown SHOW "${what}"; try SHOW HELP`);
      }
    }
  }
}
