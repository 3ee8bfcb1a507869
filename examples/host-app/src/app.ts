import http from 'node:http';
import type { Pool, TenantConfig } from '@weir/pg';

/** Where a tenant's data lives and how to log in to it (a real service reads this from its own store). */
export type TenantDirectory = (name: string) => TenantConfig | undefined;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/** The one table a tenant database needs; its user must be allowed to create it (e.g. own the database). */
export const NOTES_TABLE = 'CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, body text NOT NULL)';

/**
 * A small notes service: one shared database for the service itself, one database per tenant.
 *
 *   GET  /health                → the shared pool answers
 *   GET  /tenants/:name/notes   → the tenant's notes
 *   POST /tenants/:name/notes   → add a note (body: its text)
 *   GET  /stats                 → pool counters, live tenant pools, plugin reports
 */
export function createServer(pool: Pool, tenants: TenantDirectory): http.Server {
  // Each tenant database gets its table on the tenant's first request (retried if that fails).
  const schemaReady = new Map<string, Promise<unknown>>();
  const tenantPool = async (name: string) => {
    const t = tenants(name);
    if (t === undefined) throw new HttpError(404, `no tenant ${name}`);
    const db = pool.for(t);
    let ready = schemaReady.get(name);
    if (ready === undefined) {
      ready = db.query(NOTES_TABLE);
      schemaReady.set(name, ready);
      ready.catch(() => schemaReady.delete(name));
    }
    await ready;
    return db;
  };

  async function route(req: http.IncomingMessage): Promise<unknown> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean);
    if (req.method === 'GET' && url.pathname === '/health') {
      const { rows } = await pool.query('SELECT now() AS now');
      return { ok: true, now: rows[0].now };
    }
    if (parts[0] === 'tenants' && parts.length === 3 && parts[2] === 'notes') {
      const db = await tenantPool(parts[1]!);
      if (req.method === 'GET') {
        // A named statement: prepared once per server connection, then only executed.
        const { rows } = await db.query({ name: 'notes.list', text: 'SELECT id, body FROM notes ORDER BY id' });
        return rows;
      }
      if (req.method === 'POST') {
        const body = (await readBody(req)).trim();
        if (body === '') throw new HttpError(400, 'empty note');
        const { rows } = await db.query({ name: 'notes.add', text: 'INSERT INTO notes (body) VALUES ($1) RETURNING id', values: [body] });
        return { id: rows[0].id };
      }
    }
    if (req.method === 'GET' && url.pathname === '/stats') {
      return {
        pool: { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount },
        pools: pool.kernel.registry.entries().map((e) => ({ pool: e.pool.info.name, kind: e.kind, size: e.pool.stats().size })),
        leases: pool.report('LEASES'),
        preparedStatements: pool.report('PREPARED_STATEMENTS'),
      };
    }
    throw new HttpError(404, `no route ${req.method} ${url.pathname}`);
  }

  return http.createServer((req, res) => {
    route(req).then(
      (body) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      },
      (err: Error) => {
        const status = err instanceof HttpError ? err.status : 500;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: err.message }));
      },
    );
  });
}
