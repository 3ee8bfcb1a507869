import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const native = vi.hoisted(() => ({ missing: false }));
vi.mock('@weir/io', async (importOriginal) => {
  const real = await importOriginal<typeof import('@weir/io')>();
  return { ...real, loadNative: () => (native.missing ? { io: null, reason: 'the native addon was not built' } : real.loadNative()) };
});

const { listen, listenUnix, nodeHasReusePort, tcpMigrateReq } = await import('./listener.js');

const servers: net.Server[] = [];
afterEach(async () => {
  native.missing = false;
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('node:net listener with general.so_reuseport', () => {
  it('knows which Node versions take reusePort in server.listen', () => {
    expect(nodeHasReusePort('20.20.2')).toBe(false);
    expect(nodeHasReusePort('22.11.0')).toBe(false);
    expect(nodeHasReusePort('22.12.0')).toBe(true);
    expect(nodeHasReusePort('23.0.0')).toBe(false);
    expect(nodeHasReusePort('23.1.0')).toBe(true);
    expect(nodeHasReusePort('24.0.0')).toBe(true);
  });

  it('two servers share a port through the addon, and the second one without it cannot', async () => {
    const a = net.createServer();
    const b = net.createServer();
    const c = net.createServer();
    servers.push(a, b, c);
    const la = await listen(a, '127.0.0.1', 0, true);
    expect(la.drain).not.toBeNull();
    const lb = await listen(b, '127.0.0.1', la.address.port, true);
    expect(lb.address.port).toBe(la.address.port);
    await expect(listen(c, '127.0.0.1', la.address.port, false)).rejects.toMatchObject({ code: 'WEIR_E_LISTEN' });
  });

  it.skipIf(nodeHasReusePort())('fails with WEIR_E_LISTEN_REUSEPORT naming general.so_reuseport when the addon is missing on this Node', async () => {
    native.missing = true;
    const s = net.createServer();
    servers.push(s);
    const e = await listen(s, '127.0.0.1', 0, true).catch((err: unknown) => err);
    expect(e).toMatchObject({ code: 'WEIR_E_LISTEN_REUSEPORT' });
    expect((e as Error).message).toMatch(/general\.so_reuseport/);
    // Without so_reuseport the addon is not needed.
    expect((await listen(s, '127.0.0.1', 0, false)).drain).toBeNull();
  });

  it('reads net.ipv4.tcp_migrate_req, null where the kernel has none', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-migrate-'));
    fs.writeFileSync(path.join(dir, 'on'), '1\n');
    expect(tcpMigrateReq(path.join(dir, 'on'))).toBe(1);
    expect(tcpMigrateReq(path.join(dir, 'absent'))).toBeNull();
    fs.rmSync(dir, { recursive: true });
  });
});

describe('unix socket listener', () => {
  it('a second listener takes the socket file over; the first one closing leaves it in place', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-unix-'));
    const file = path.join(dir, '.s.PGSQL.7777');
    const hits: string[] = [];
    const a = net.createServer((s) => { hits.push('a'); s.destroy(); });
    const b = net.createServer((s) => { hits.push('b'); s.destroy(); });
    const la = await listenUnix(a, dir, 7777);
    const lb = await listenUnix(b, dir, 7777);
    expect([la.file, lb.file]).toEqual([file, file]);
    la.close();
    await new Promise((r) => a.once('close', r));
    expect(fs.existsSync(file)).toBe(true);
    await new Promise<void>((resolve, reject) => net.connect(file).on('connect', resolve).on('error', reject));
    for (let i = 0; i < 100 && hits.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(hits).toEqual(['b']);
    lb.close();
    await new Promise((r) => b.once('close', r));
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true });
  });
});
