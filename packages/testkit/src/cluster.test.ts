import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from './cluster.js';

async function login(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT current_user AS u');
    return rows[0].u;
  } finally {
    await client.end();
  }
}

describe('startCluster', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ name: 'testkit' });
  });
  afterAll(() => cluster?.stop());

  it('listens on 127.0.0.1 with the superuser logging in by password', async () => {
    expect(cluster.host).toBe('127.0.0.1');
    expect(cluster.port).toBeGreaterThan(0);
    expect(await login(cluster.url())).toBe('postgres');
    const [row] = await cluster.query<{ listen: string; max: string; fsync: string }>(
      "SELECT current_setting('listen_addresses') AS listen, current_setting('max_connections') AS max, current_setting('fsync') AS fsync",
    );
    expect(row).toEqual({ listen: '127.0.0.1', max: '300', fsync: 'off' });
  });

  it('creates md5 and SCRAM roles that log in over TCP', async () => {
    await cluster.createRole('md5_user', 'md5 pass', { method: 'md5' });
    await cluster.createRole('scram_user', "scr'am", { method: 'scram-sha-256' });
    await cluster.createDatabase('appdb', 'md5_user');
    const rows = await cluster.query<{ rolname: string; rolpassword: string }>(
      "SELECT rolname, rolpassword FROM pg_authid WHERE rolname IN ('md5_user', 'scram_user', 'postgres') ORDER BY rolname",
    );
    const stored = Object.fromEntries(rows.map((r) => [r.rolname, r.rolpassword]));
    expect(stored.md5_user).toMatch(/^md5[0-9a-f]{32}$/);
    expect(stored.scram_user).toMatch(/^SCRAM-SHA-256\$4096:/);
    expect(stored.postgres).toMatch(/^SCRAM-SHA-256\$/);
    expect(await login(cluster.url({ user: 'md5_user', password: 'md5 pass', database: 'appdb' }))).toBe('md5_user');
    expect(await login(cluster.url({ user: 'scram_user', password: "scr'am" }))).toBe('scram_user');
  });

  it('rejects a wrong password with 28P01', async () => {
    await expect(login(cluster.url({ user: 'scram_user', password: 'nope' }))).rejects.toMatchObject({ code: '28P01' });
    await expect(login(cluster.url({ user: 'md5_user', password: 'nope' }))).rejects.toMatchObject({ code: '28P01' });
  });

  it('counts client backends', async () => {
    const client = new pg.Client({ connectionString: cluster.url({ database: 'appdb' }) });
    await client.connect();
    try {
      expect(await cluster.serverConnections('appdb')).toBe(1);
      expect(await cluster.serverConnections()).toBe(1);
    } finally {
      await client.end();
    }
  });

  it('restarts on the same port', async () => {
    const port = cluster.port;
    await cluster.restart();
    expect(cluster.port).toBe(port);
    expect(await login(cluster.url({ user: 'md5_user', password: 'md5 pass', database: 'appdb' }))).toBe('md5_user');
  });

  it('applies custom settings, and stop removes the data dir (idempotent)', async () => {
    const other = await startCluster({ settings: { max_connections: '20', application_name: 'x y' } });
    expect(await other.query('SHOW max_connections')).toEqual([{ max_connections: '20' }]);
    expect(existsSync(other.dataDir)).toBe(true);
    await other.stop();
    expect(existsSync(other.dataDir)).toBe(false);
    await other.stop();
    await expect(other.query('SELECT 1')).rejects.toMatchObject({ code: 'WEIR_E_TESTKIT_CLUSTER_STOPPED' });
  });

  it('fails with the server log and leaves nothing behind when PostgreSQL cannot start', async () => {
    const error = await startCluster({ name: 'bad', settings: { shared_buffers: 'lots' } }).catch((e) => e);
    expect(error.code).toBe('WEIR_E_TESTKIT_CLUSTER_START');
    expect(error.message).toContain('shared_buffers');
  });
});
