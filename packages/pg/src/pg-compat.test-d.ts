/**
 * Type-level tests: a weir Pool (and a tenant facade) fits where code expects a pg.Pool, and
 * its clients are pg PoolClients. Checked by `tsc -p tsconfig.test.json` (see types.test.ts).
 */
import { expectTypeOf } from 'vitest';
import type pg from 'pg';
import type { Kernel, PluginClass } from '@weir/kernel';
import type { Pool, PoolClient, PoolConfig, TenantPool, PluginEntry } from './index.js';

type PgPoolSurface = Pick<pg.Pool, 'query' | 'connect' | 'end' | 'on' | 'totalCount' | 'idleCount' | 'waitingCount' | 'expiredCount' | 'ending' | 'ended'>;

declare const pool: Pool;
declare const tenant: TenantPool;

// drop-in: assignable to the pg.Pool surface
expectTypeOf(pool).toExtend<PgPoolSurface>();
expectTypeOf(tenant).toExtend<PgPoolSurface>();

// query forms and their results
expectTypeOf(pool.query('SELECT 1')).toEqualTypeOf<Promise<pg.QueryResult<any>>>();
expectTypeOf(pool.query<{ n: number }>('SELECT $1::int AS n', [1])).resolves.toHaveProperty('rows').toEqualTypeOf<{ n: number }[]>();
expectTypeOf(pool.query({ text: 'SELECT 1', rowMode: 'array' })).resolves.toHaveProperty('rows').toEqualTypeOf<any[][]>();
expectTypeOf(pool.query('SELECT 1', (err, res) => void [err, res])).toEqualTypeOf<void>();
expectTypeOf(pool.query('SELECT $1', [1], (err: Error, res: pg.QueryResult) => void [err, res])).toEqualTypeOf<void>();

// clients: real pg.Clients with release(err?)
expectTypeOf(pool.connect()).resolves.toEqualTypeOf<PoolClient>();
expectTypeOf<PoolClient>().toExtend<pg.PoolClient>();
expectTypeOf<PoolClient['release']>().parameters.toEqualTypeOf<[err?: Error | boolean]>();

// per-tenant pools
expectTypeOf(pool.for({ database: 'acme', user: 'acme', password: 'x', max: 2 })).toEqualTypeOf<TenantPool>();
// @ts-expect-error a tenant names its user
pool.for({ database: 'acme' });

// options: pg.Pool's plus plugins (a class, or [class, its config section]) and the kernel
declare const SomePlugin: PluginClass;
expectTypeOf<{ max: 3; plugins: [typeof SomePlugin, [typeof SomePlugin, { interval: '1s' }]] }>().toExtend<PoolConfig>();
expectTypeOf<PluginEntry>().toEqualTypeOf<PluginClass | readonly [PluginClass, Record<string, unknown>]>();
expectTypeOf(pool.kernel).toEqualTypeOf<Kernel>();
