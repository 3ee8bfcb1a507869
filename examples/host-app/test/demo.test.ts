import { expect, it } from 'vitest';
import { runDemo } from '../src/demo.js';

it('the demo serves tenants from per-tenant pools, collects them when idle, and makes them again', async () => {
  const lines: string[] = [];
  const seen = await runDemo((line) => lines.push(line));
  const byRequest = (r: string) => seen.filter((s) => s.request === r);
  expect(byRequest('GET /health')[0]!.status).toBe(200);
  expect(byRequest('GET /tenants/acme/notes')[0]!.body).toEqual([
    { id: 1, body: 'buy anvils' },
    { id: 2, body: 'paint tunnel on wall' },
  ]);
  expect(byRequest('GET /tenants/globex/notes')[0]!.body).toEqual([{ id: 1, body: 'hire a new intern' }]);
  expect(byRequest('GET /tenants/initech/notes')[0]!.status).toBe(404);

  const [before, after] = byRequest('GET /stats').map((s) => s.body as { pools: Array<{ pool: string; kind: string }>; preparedStatements: { rows: unknown[][] } });
  expect(before!.pools.map((p) => p.kind).sort()).toEqual(['dynamic', 'dynamic', 'static']);
  expect(after!.pools.map((p) => p.pool)).toEqual(['app@appdb']); // tenant pools collected
  // notes.list / notes.add: prepared once per connection, the second list a cache hit
  expect(before!.preparedStatements.rows).toContainEqual(['acme@acme', 1, 2, 1, 2, 0, 0]);
  expect(byRequest('GET /tenants/acme/notes')[1]!.status).toBe(200); // made again on demand
  expect(lines.length).toBeGreaterThan(5);
});
