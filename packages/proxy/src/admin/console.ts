import type { Reports } from '@weir/kernel';
import { readyForQuery } from '@weir/protocol';
import { error, SqlState } from '../client/errors.js';
import { table, reportTable, done } from './table.js';
import { ShowTables, type Table } from './show.js';
import type { Averages } from './averages.js';
import type { Proxy } from '../proxy.js';
import type { PoolerErrorFields } from '../client/pooler-errors.js';

/** A command's failure: ErrorResponse, and the rest of a multi-command query is not run. */
class AdminError extends Error {
  constructor(readonly sqlstate: string, message: string) {
    super(message);
  }
}

const COMMANDS = [
  'SHOW HELP|POOLS|STATS|STATS_TOTALS|STATS_AVERAGES|DATABASES|USERS|LISTS|CLIENTS|SERVERS|CONFIG|MEM|VERSION',
  'PAUSE [db]', 'RESUME [db]', 'SUSPEND', 'DISABLE db', 'ENABLE db', 'KILL db', 'KILL_CLIENT id', 'RECONNECT [db]',
  'WAIT_CLOSE [db]', 'RELOAD', 'SHUTDOWN [WAIT_FOR_SERVERS|WAIT_FOR_CLIENTS]',
];

/**
 * The admin console: database `weir` or `pgbouncer`, PgBouncer's commands with its scoping.
 * Several commands may be sent in one query, separated by `;`; the first that fails ends it.
 */
export class AdminConsole {
  private readonly show: ShowTables;

  constructor(private readonly proxy: Proxy, private readonly reports: Reports, averages: Averages, version: string) {
    this.show = new ShowTables(proxy, averages, version);
  }

  /** `who`: the admin session, for log_pooler_errors. */
  async run(sql: string, who: PoolerErrorFields = {}): Promise<Buffer> {
    const out: Buffer[] = [];
    const commands = sql.split(';').map((c) => c.trim()).filter((c) => c !== '');
    if (commands.length === 0) out.push(done('EMPTY'));
    for (const c of commands) {
      try {
        out.push(await this.one(c));
      } catch (e) {
        // weir's own fault: logged whatever log_pooler_errors says.
        if (!(e instanceof AdminError)) this.proxy.logger.error({ ...who, command: c, err: e }, `admin command failed: ${(e as Error).message}`);
        const err = e instanceof AdminError ? e : new AdminError(SqlState.InternalError, (e as Error).message);
        out.push(error(err.sqlstate, err.message));
        this.proxy.poolerError({ ...who, command: c }, err.sqlstate, err.message);
        break;
      }
    }
    out.push(readyForQuery('I'));
    return Buffer.concat(out);
  }

  private async one(text: string): Promise<Buffer> {
    const words = text.split(/\s+/);
    const verb = words[0]!.toUpperCase();
    const arg = words[1];
    if (words.length > 2) throw new AdminError(SqlState.SyntaxError, `too many arguments to ${verb}: "${text}"`);
    const p = this.proxy;
    switch (verb) {
      case 'SHOW': return this.showOne((arg ?? '').toUpperCase());
      case 'RELOAD': {
        const result = await p.reload();
        if (!result.ok) throw new AdminError(SqlState.InternalError, `RELOAD failed, running config kept: ${result.error}`);
        return done('RELOAD');
      }
      case 'PAUSE':
        await p.pause(arg === undefined ? undefined : this.database(arg));
        return done('PAUSE');
      case 'SUSPEND':
        // weir has no socket handover to suspend for: SUSPEND holds every database as PAUSE does.
        await p.pause();
        return done('SUSPEND');
      case 'RESUME': {
        const db = arg === undefined ? undefined : this.database(arg);
        if (!p.resume(db) && db !== undefined) throw new AdminError(SqlState.ObjectNotInPrerequisiteState, `database ${db} is not paused`);
        return done('RESUME');
      }
      case 'DISABLE':
        p.control.disable(this.database(this.required(verb, arg)));
        return done('DISABLE');
      case 'ENABLE':
        p.control.enable(this.database(this.required(verb, arg)));
        return done('ENABLE');
      case 'KILL': {
        const db = this.database(this.required(verb, arg));
        p.control.pause(db);
        for (const s of [...p.sessions]) if (!s.isAdmin && s.database === db) s.kill();
        for (const e of p.kernel.registry.entries()) if (e.key.database === db) e.pool.recycle();
        return done('KILL');
      }
      case 'KILL_CLIENT': {
        const id = Number(this.required(verb, arg));
        const target = [...p.sessions].find((s) => s.pid === id);
        if (target === undefined || !Number.isInteger(id)) throw new AdminError(SqlState.UndefinedObject, `no client with id ${arg} (see SHOW CLIENTS)`);
        target.kill();
        return done('KILL_CLIENT');
      }
      case 'RECONNECT': {
        const db = arg === undefined ? undefined : this.database(arg);
        for (const e of p.kernel.registry.entries()) if (db === undefined || e.key.database === db) e.pool.recycle();
        return done('RECONNECT');
      }
      case 'WAIT_CLOSE': {
        const db = arg === undefined ? undefined : this.database(arg);
        await p.waitClose(db);
        return done('WAIT_CLOSE');
      }
      case 'SHUTDOWN': {
        const how = (arg ?? '').toUpperCase();
        const kind = how === '' ? 'fast' : how === 'WAIT_FOR_SERVERS' ? 'wait-servers' : how === 'WAIT_FOR_CLIENTS' ? 'wait-clients' : null;
        if (kind === null) throw new AdminError(SqlState.SyntaxError, `SHUTDOWN takes WAIT_FOR_SERVERS or WAIT_FOR_CLIENTS, not "${arg}"`);
        setImmediate(() => void p.shutdown(kind));
        return done('SHUTDOWN');
      }
      default:
        throw new AdminError(SqlState.SyntaxError, `unknown admin command "${words[0]}"; try SHOW HELP`);
    }
  }

  private required(verb: string, arg: string | undefined): string {
    if (arg === undefined) throw new AdminError(SqlState.SyntaxError, `${verb} needs an argument`);
    return arg;
  }

  /** A configured database name, or an error naming it. */
  private database(name: string): string {
    if (!(name in this.proxy.config.pools)) throw new AdminError(SqlState.UndefinedObject, `no such database: ${name}`);
    return name;
  }

  private showOne(what: string): Buffer {
    const s = this.show;
    const t = (x: Table) => table(x.columns, x.rows);
    switch (what) {
      case 'HELP': return table(['command'], [...COMMANDS, ...this.reports.names().map((n) => `SHOW ${n}`)].map((c) => [c]));
      case 'VERSION': return t(s.versionTable());
      case 'POOLS': return t(s.pools());
      case 'STATS': return t(s.stats());
      case 'STATS_TOTALS': return t(s.statsTotals(false));
      case 'STATS_AVERAGES': return t(s.statsTotals(true));
      case 'DATABASES': return t(s.databases());
      case 'USERS': return t(s.users());
      case 'LISTS': return t(s.lists());
      case 'CLIENTS': return t(s.clients());
      case 'SERVERS': return t(s.servers());
      case 'MEM': return t(s.mem());
      case 'CONFIG': return t(s.config());
      default: {
        const source = this.reports.get(what);
        if (source) return reportTable(source());
        throw new AdminError(SqlState.SyntaxError, `unknown SHOW "${what}"; try SHOW HELP`);
      }
    }
  }
}
