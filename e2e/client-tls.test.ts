/**
 * client_tls_sslmode (issue 13, item 2): `require` refuses plaintext logins with a clear error;
 * `verify-ca` asks for a client certificate signed by client_tls_ca_file; `verify-full` also
 * wants the certificate's CN to be the user; `disable` never offers TLS.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { psql, run, startStack, USERS, type Stack, type WeirInstance } from './helpers.js';

let dir: string;
let stack: Stack;
const file = (n: string) => path.join(dir, n);
const read = (n: string) => fs.readFileSync(file(n), 'utf8');

async function openssl(args: string[]): Promise<void> {
  const r = await run('openssl', args);
  expect(r.code, r.stderr).toBe(0);
}

/** A key and a certificate for `cn`, signed by the test CA (or self-signed). */
async function cert(name: string, cn: string, selfSigned = false): Promise<void> {
  if (selfSigned) {
    return openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${cn}`, '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`)]);
  }
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`)]);
  await openssl(['x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '1', '-out', file(`${name}.crt`)]);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-client-tls-'));
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=weir client CA', '-keyout', file('ca.key'), '-out', file('ca.crt')]);
  await cert('weir', 'localhost');
  await cert('app', USERS.md5.name);
  await cert('other', 'someone-else');
  await cert('stranger', USERS.md5.name, true);
  stack = await startStack({ name: 'e2e-client-tls' });
});

afterAll(async () => {
  await stack?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const tlsWeir = (mode: string) => stack.startAnotherWeir({ general: {
  tls_certificate: file('weir.crt'), tls_private_key: file('weir.key'), client_tls_sslmode: mode, client_tls_ca_file: file('ca.crt'),
} });

/** node-postgres through `weir` with `ssl` options (false: plaintext); the query's answer or the error. */
async function login(weir: WeirInstance, ssl: pg.ClientConfig['ssl']): Promise<string> {
  const c = new pg.Client({ ...stack.conn(), port: weir.port, ssl });
  c.on('error', () => {});
  try {
    await c.connect();
    return String((await c.query('SELECT 1 AS one')).rows[0].one);
  } catch (e) {
    return `error ${(e as { code?: string }).code ?? ''}: ${(e as Error).message}`;
  } finally {
    await c.end().catch(() => {});
  }
}

const withCert = (name: string) => ({ rejectUnauthorized: false, cert: read(`${name}.crt`), key: read(`${name}.key`) });

describe('client_tls_sslmode', () => {
  it('require: a plaintext login is refused with 28000 naming the setting; TLS logins work (psql and node-postgres)', async () => {
    const weir = await tlsWeir('require');
    expect(await login(weir, false)).toMatch(/^error 28000: weir accepts only TLS connections \(client_tls_sslmode require\)/);
    expect(await login(weir, { rejectUnauthorized: false })).toBe('1');
    const plain = await psql(weir.port, { user: USERS.md5.name, password: USERS.md5.password, sql: 'SELECT 1' });
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toMatch(/weir accepts only TLS connections/);
    const secure = await psql(weir.port, { user: USERS.md5.name, password: USERS.md5.password, sql: 'SELECT 1', env: { PGSSLMODE: 'require' } });
    expect(secure.stderr).toBe('');
    expect(secure.stdout.trim()).toBe('1');
  });

  it('verify-ca: no client certificate, or one from another CA, is refused (28000); a signed one logs in', async () => {
    const weir = await tlsWeir('verify-ca');
    expect(await login(weir, { rejectUnauthorized: false })).toMatch(/^error 28000: connection requires a valid client certificate/);
    expect(await login(weir, withCert('stranger'))).toMatch(/^error 28000: connection requires a valid client certificate/);
    expect(await login(weir, withCert('app'))).toBe('1');
    expect(await login(weir, withCert('other'))).toBe('1'); // any user: verify-ca checks the signature only
    expect(await login(weir, false)).toMatch(/^error 28000/);
  });

  it('verify-full: the certificate must name the user', async () => {
    const weir = await tlsWeir('verify-full');
    expect(await login(weir, withCert('app'))).toBe('1');
    expect(await login(weir, withCert('other'))).toMatch(/^error 28000: certificate authentication failed for user "app"/);
  });

  it('disable: TLS is not offered even with a certificate configured', async () => {
    const weir = await tlsWeir('disable');
    expect(await login(weir, { rejectUnauthorized: false })).toMatch(/^error.*does not support SSL/i);
    expect(await login(weir, false)).toBe('1');
  });

  it('a mode that needs a certificate without one is a config error naming the key', async () => {
    fs.writeFileSync(file('bad.yaml'), 'general:\n  client_tls_sslmode: verify-ca\n  tls_certificate: x.crt\n  tls_private_key: x.key\npools: {}\n');
    const c = await run(process.execPath, [path.resolve(__dirname, '../packages/weir/dist/cli.js'), 'check', '--config', file('bad.yaml')]);
    expect(c.code).toBe(1);
    expect(c.stdout + c.stderr).toMatch(/client_tls_ca_file/);
  });
});
