import { describe, expect, it } from 'vitest';
import { mergeTables } from './merge.js';

describe('mergeTables: SHOW rows of several workers as one table', () => {
  it('POOLS: one row per pool, counts summed, settings kept, maxwait the largest', () => {
    const cols = ['database', 'user', 'cl_active', 'sv_idle', 'maxwait', 'pool_mode', 'pool_size'];
    const t = mergeTables('POOLS', [
      { worker: 0, table: { columns: cols, rows: [['db', 'u', 3, 2, 1, 'transaction', 10]] } },
      { worker: 1, table: { columns: cols, rows: [['db', 'u', 4, 1, 5, 'transaction', 10], ['db', 'v', 1, 0, 0, 'session', 2]] } },
    ]);
    expect(t.rows).toEqual([['db', 'u', 7, 3, 5, 'transaction', 10], ['db', 'v', 1, 0, 0, 'session', 2]]);
  });

  it('CLIENTS (and tables without a rule): every row, with its worker', () => {
    const t = mergeTables('CLIENTS', [
      { worker: 0, table: { columns: ['user'], rows: [['a']] } },
      { worker: 1, table: { columns: ['user'], rows: [['b'], ['c']] } },
    ]);
    expect(t.columns).toEqual(['user', 'worker']);
    expect(t.rows).toEqual([['a', 0], ['b', 1], ['c', 1]]);
  });

  it('LISTS: configured names counted once, lists summed', () => {
    const t = mergeTables('LISTS', [
      { worker: 0, table: { columns: ['list', 'items'], rows: [['databases', 2], ['used_clients', 5]] } },
      { worker: 1, table: { columns: ['list', 'items'], rows: [['databases', 2], ['used_clients', 7]] } },
    ]);
    expect(t.rows).toEqual([['databases', 2], ['used_clients', 12]]);
  });
});
