/**
 * Run the service against your own PostgreSQL:
 *   DATABASE_URL=postgres://app:secret@localhost/appdb \
 *   TENANTS='{"acme":{"database":"acme","user":"acme","password":"…"}}' PORT=3000 npm start -w examples/host-app
 */
import type { TenantConfig } from '@weir/pg';
import { createServer } from './app.js';
import { createPool } from './pool.js';

const tenants = JSON.parse(process.env.TENANTS ?? '{}') as Record<string, TenantConfig>;
const pool = createPool({ connectionString: process.env.DATABASE_URL });
pool.on('error', (err) => console.error('idle client error:', err.message));
const server = createServer(pool, (name) => tenants[name]);
const port = Number(process.env.PORT ?? 3000);
server.listen(port, () => console.log(`notes service on http://localhost:${port}`));

const stop = (): void => {
  server.close();
  void pool.end().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
