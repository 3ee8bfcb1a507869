/**
 * TLS for clients (general.tls_certificate / tls_private_key) and the unix socket listener
 * (general.unix_socket_dir): psql reaches weir both ways; without TLS configured, an
 * SSLRequest is answered "N" and sslmode=require fails with a clear message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PSQL, USERS, run, startStack, type Stack, type WeirInstance } from './helpers.js';

let dir: string;
let stack: Stack; // without TLS
let tlsWeir: WeirInstance; // same cluster, TLS and a unix socket

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-tls-'));
  const r = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')]);
  expect(r.code, r.stderr).toBe(0);
  stack = await startStack({ name: 'tls' });
  tlsWeir = await stack.startAnotherWeir({
    general: {
      tls_certificate: path.join(dir, 'cert.pem'),
      tls_private_key: path.join(dir, 'key.pem'),
      unix_socket_dir: dir,
    },
  });
});

afterAll(async () => {
  await stack?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('client TLS and unix socket', () => {
  it('psql with sslmode=require talks TLS to weir', async () => {
    const u = USERS.md5;
    const r = await run(PSQL, ['-X', '-At', '-c', "select 'over tls'", '-c', '\\conninfo',
      `host=127.0.0.1 port=${tlsWeir.port} user=${u.name} dbname=appdb sslmode=require`], { env: { PGPASSWORD: u.password } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('over tls');
    expect(r.stdout).toMatch(/SSL connection \(protocol: TLS/);
  });

  it('psql reaches weir over its unix socket', async () => {
    const u = USERS.plain;
    expect(fs.existsSync(path.join(dir, `.s.PGSQL.${tlsWeir.port}`))).toBe(true);
    const r = await run(PSQL, ['-X', '-At', '-h', dir, '-p', String(tlsWeir.port), '-U', u.name, '-d', 'appdb', '-c', 'select current_user'],
      { env: { PGPASSWORD: u.password } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(u.name);
  });

  it('without TLS configured, sslmode=require is refused and plain connections still work', async () => {
    const plain = stack.weir;
    const u = USERS.md5;
    const refused = await run(PSQL, ['-X', '-At', '-c', 'select 1',
      `host=127.0.0.1 port=${plain.port} user=${u.name} dbname=appdb sslmode=require`], { env: { PGPASSWORD: u.password } });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/does not support SSL/i);
    const ok = await run(PSQL, ['-X', '-At', '-c', 'select 1',
      `host=127.0.0.1 port=${plain.port} user=${u.name} dbname=appdb sslmode=prefer`], { env: { PGPASSWORD: u.password } });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe('1');
  });
});
