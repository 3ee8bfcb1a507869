import type pg from 'pg';
import type { ConnectionId, Logger, StatementCacheService } from '@weir/kernel';

interface ClientInternals {
  connection?: { parsedStatements?: Record<string, string> };
}

/**
 * Track the named statements (`{ name, text }` queries) of one client in the cache, per
 * ConnectionId: a hit when this connection prepared it before, a miss otherwise. When the cache's
 * bound evicts a name, the statement is deallocated on the server and forgotten by the client,
 * so it is prepared again if used again. The plugin's `drop` handler empties the entry when the
 * connection closes.
 */
export function trackStatements(client: pg.Client, id: ConnectionId, pool: string, cache: StatementCacheService, logger: Logger): void {
  const original = client.query;
  const parsed = (): Record<string, string> | undefined => (client as unknown as ClientInternals).connection?.parsedStatements;
  const deallocate = (name: string): void => {
    const known = parsed();
    const text = known?.[name];
    if (known !== undefined) delete known[name]; // from now on, using it again prepares it again (queued after the DEALLOCATE)
    ((original as (text: string) => Promise<unknown>).call(client, `DEALLOCATE ${client.escapeIdentifier(name)}`)).catch((err: unknown) => {
      // e.g. in an aborted transaction: the server still has it, so the client must know it again
      if (known !== undefined && text !== undefined && known[name] === undefined) known[name] = text;
      logger.debug({ err, pool, connection: id, statement: name }, 'prepared statement eviction: DEALLOCATE failed');
    });
  };
  const track = (name: string): void => {
    const statements = cache.for(id, pool);
    const stats = cache.poolStats(pool);
    if (statements.has(name)) {
      stats.hits++;
      return;
    }
    stats.misses++;
    const evicted = statements.add(name);
    if (evicted !== null) {
      stats.evictions++;
      deallocate(evicted);
    }
  };
  const wrapped = function (this: pg.Client, config: unknown, ...rest: unknown[]): unknown {
    if (config !== null && typeof config === 'object') {
      const name = (config as { name?: unknown }).name;
      if (typeof name === 'string' && name !== '') track(name);
    }
    return (original as (...args: unknown[]) => unknown).call(this, config, ...rest);
  };
  (client as unknown as { query: unknown }).query = wrapped;
}
