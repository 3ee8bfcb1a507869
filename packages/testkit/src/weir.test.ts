import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startWeir } from './weir.js';

const bin = join(__dirname, 'fixtures', 'fake-weir.cjs');

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('startWeir', () => {
  it('fills ${PORT}, waits for "listening", reloads, and stops with the exit code', async () => {
    const weir = await startWeir({ bin, config: 'general:\n  host: 127.0.0.1\n  port: ${PORT}\n  marker: one\n' });
    expect(weir.host).toBe('127.0.0.1');
    // weir resolves third-party plugins from the config's directory: keep it inside the project
    expect(weir.configFile).toContain(join(process.cwd(), 'node_modules', '.cache', 'weir-testkit'));
    expect(await canConnect(weir.port)).toBe(true);
    expect(weir.logs.some((l) => l.includes(`listening on 127.0.0.1:${weir.port}`))).toBe(true);

    const from = weir.logs.length;
    await weir.reload(`general:\n  port: \${PORT}\n  marker: two\n`);
    expect(await weir.waitForLog(/reloaded/, 5000, from)).toContain('"marker":"two"');

    expect(await weir.stop()).toBe(0);
    expect(existsSync(weir.configFile)).toBe(false);
    expect(await weir.stop()).toBe(0);
    await expect(weir.waitForLog(/never/)).rejects.toMatchObject({ code: 'WEIR_E_TESTKIT_WEIR_STOPPED' });
  });

  it('rejects with the logs when weir exits before listening', async () => {
    await expect(startWeir({ bin, config: 'fail: true\n' })).rejects.toMatchObject({
      code: 'WEIR_E_TESTKIT_WEIR_START',
      message: expect.stringContaining('config invalid: fail is true'),
    });
  });

  it('rejects and kills weir when it never listens', async () => {
    await expect(startWeir({ bin, config: 'hang: true\n', timeoutMs: 300 })).rejects.toMatchObject({
      code: 'WEIR_E_TESTKIT_WEIR_START',
      message: expect.stringContaining('no "listening" line within 300 ms'),
    });
  });

  it('waitForLog times out with a coded error', async () => {
    const weir = await startWeir({ bin, config: 'general:\n  port: ${PORT}\n' });
    try {
      await expect(weir.waitForLog(/nothing like this/, 100)).rejects.toMatchObject({ code: 'WEIR_E_TESTKIT_LOG_TIMEOUT' });
    } finally {
      await weir.stop('SIGKILL');
    }
  });
});
