/**
 * TLS to PostgreSQL (issue 13, item 1): a cluster with `ssl = on` that accepts TCP logins only
 * over TLS (hostssl); every server_tls_sslmode, a wrong CA, a wrong host name; md5, SCRAM and
 * passthrough users all log in; pg_stat_ssl shows weir's server connections encrypted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWeir } from '@weir/testkit';
import { run, startStack, USERS, type Stack } from './helpers.js';

let dir: string;
let stack: Stack;
let plainStack: Stack;
const file = (n: string) => path.join(dir, n);

async function openssl(args: string[]): Promise<void> {
  const r = await run('openssl', args);
  expect(r.code, r.stderr).toBe(0);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-server-tls-'));
  // A CA, a server certificate it signed for the name "localhost" only, and an unrelated CA.
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=weir test CA', '-keyout', file('ca.key'), '-out', file('ca.crt')]);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', file('server.key'), '-out', file('server.csr')]);
  fs.writeFileSync(file('san.ext'), 'subjectAltName=DNS:localhost\n');
  await openssl(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-days', '1', '-extfile', file('san.ext'), '-out', file('server.crt')]);
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=other CA', '-keyout', file('other.key'), '-out', file('other.crt')]);
  stack = await startStack({
    name: 'e2e-server-tls',
    clusterSsl: { cert: fs.readFileSync(file('server.crt'), 'utf8'), key: fs.readFileSync(file('server.key'), 'utf8') },
    // The superuser (testkit's own connection) may use plain TCP; every other role only TLS.
    clusterHba: ['local all all trust', 'host all postgres 127.0.0.1/32 md5', 'hostssl all all 127.0.0.1/32 md5', 'hostnossl all all 127.0.0.1/32 reject', ''].join('\n'),
  });
  plainStack = await startStack({ name: 'e2e-server-notls' });
});

afterAll(async () => {
  await stack?.stop();
  await plainStack?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Log in through a weir with `general` and run a query as each of the three users; errors as messages. */
async function through(s: Stack, general: Record<string, string>): Promise<(string | { ssl: boolean })[]> {
  const weir = await s.startAnotherWeir({ general: { query_wait_timeout: '3s', ...general } });
  try {
    return await Promise.all([USERS.md5, USERS.plain, USERS.scram].map(async (user) => {
      const c = new pg.Client({ ...s.conn(user), port: weir.port });
      c.on('error', () => {});
      try {
        await c.connect();
        const r = await c.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
        return { ssl: r.rows[0]!.ssl };
      } catch (e) {
        return (e as Error).message;
      } finally {
        await c.end().catch(() => {});
      }
    }));
  } finally {
    await weir.stop();
  }
}

const encrypted = [{ ssl: true }, { ssl: true }, { ssl: true }];

describe('server_tls_sslmode against a TLS-only PostgreSQL', () => {
  it('prefer (the default): every user logs in, every server connection encrypted', async () => {
    expect(await through(stack, {})).toEqual(encrypted);
  });

  it('require, and allow (plaintext refused by pg_hba, then TLS)', async () => {
    expect(await through(stack, { server_tls_sslmode: 'require' })).toEqual(encrypted);
    expect(await through(stack, { server_tls_sslmode: 'allow' })).toEqual(encrypted);
  });

  it('disable: PostgreSQL refuses the plaintext login and the client is told why', async () => {
    const out = await through(stack, { server_tls_sslmode: 'disable' });
    for (const r of out) expect(r).toMatch(/no pg_hba.conf entry|no encryption/);
  });

  it('verify-ca with the right CA; a wrong CA is a clear certificate error', async () => {
    expect(await through(stack, { server_tls_sslmode: 'verify-ca', server_tls_ca_file: file('ca.crt') })).toEqual(encrypted);
    for (const r of await through(stack, { server_tls_sslmode: 'verify-ca', server_tls_ca_file: file('other.crt') })) {
      expect(r).toMatch(/TLS to server .*verify-ca.*(certificate|self.signed|issuer)/i);
    }
  });

  it('verify-full checks the host name: 127.0.0.1 is not "localhost" in the certificate', async () => {
    for (const r of await through(stack, { server_tls_sslmode: 'verify-full', server_tls_ca_file: file('ca.crt') })) {
      expect(r).toMatch(/TLS to server .*verify-full.*(altnames|Hostname|IP)/i);
    }
  });
});

describe('a PostgreSQL without TLS', () => {
  it('prefer falls back to plaintext; require refuses with a clear error', async () => {
    expect(await through(plainStack, {})).toEqual([{ ssl: false }, { ssl: false }, { ssl: false }]);
    for (const r of await through(plainStack, { server_tls_sslmode: 'require' })) expect(r).toMatch(/does not accept TLS/);
  });
});

describe('per pool, and config errors', () => {
  const withPool = (extra: string, host = 'localhost') => stack.config.replace('    server_host: 127.0.0.1\n', `    server_host: ${host}\n${extra}`);

  it('verify-full set on the pool: "localhost" matches the certificate, every user logs in encrypted', async () => {
    const weir = await startWeir({ config: withPool(`    server_tls_sslmode: verify-full\n    server_tls_ca_file: ${file('ca.crt')}\n`) });
    try {
      for (const user of [USERS.md5, USERS.plain, USERS.scram]) {
        const c = new pg.Client({ ...stack.conn(user), port: weir.port });
        await c.connect();
        expect((await c.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows[0].ssl).toBe(true);
        await c.end();
      }
    } finally {
      await weir.stop();
    }
  });

  it('a CA file that cannot be read stops weir at start, naming the key', async () => {
    await expect(startWeir({ config: withPool(`    server_tls_ca_file: ${file('missing.crt')}\n`) })).rejects.toThrow(/WEIR_E_CONFIG_TLS|pools\.appdb\.server_tls_ca_file/);
  });
});
