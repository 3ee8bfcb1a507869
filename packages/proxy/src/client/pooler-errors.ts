import type { Logger } from '@weir/kernel';
import { LogDigest } from '../guard/log-digest.js';

/** Who got the error: the client's address, and its user and database once known. */
export interface PoolerErrorFields {
  client?: string;
  user?: string;
  database?: string;
  [k: string]: unknown;
}

/** SQLSTATEs that say weir (or its servers) could not serve, not that the client did wrong: warn. */
const WARN = /^(53|57P03|08006|XX)/;

/**
 * log_pooler_errors (PgBouncer's): the one place that logs the errors weir itself sends clients
 * (FATAL on refusals, failed logins, timeouts; admin console ERRORs). Events a client can repeat
 * at will (`repeated`) are logged at most once per period with a count.
 */
export class PoolerErrors {
  private readonly digests = new Map<string, LogDigest>();

  constructor(private readonly logger: Logger, private readonly enabled: () => boolean) {}

  note(fields: PoolerErrorFields, sqlstate: string, message: string, repeated = false): void {
    if (!this.enabled()) return;
    const level = WARN.test(sqlstate) ? 'warn' : 'info';
    const text = `pooler error: ${message}`;
    const line = { ...fields, sqlstate };
    if (!repeated) return this.logger[level](line, text);
    let d = this.digests.get(text);
    if (d === undefined) this.digests.set(text, (d = new LogDigest(this.logger, level, text)));
    d.note(line);
  }
}
