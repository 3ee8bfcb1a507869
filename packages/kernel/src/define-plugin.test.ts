import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { duration } from './config/duration.js';
import { parseConfig } from './config/parse.js';
import { baseConfigSchema } from './config/schema.js';
import { definePlugin } from './define-plugin.js';
import { Kernel } from './kernel.js';
import { REPORTS, Reports } from './reports.js';
import { createToken } from './tokens.js';

const configSchema = z.strictObject({ every: duration.default(1_000), label: z.string().default('x') });
const SEEN = createToken<string[]>('test.seen');

function kernelWith(P: ReturnType<typeof definePlugin>, section: Record<string, unknown> = {}): Kernel {
  const config = parseConfig('', baseConfigSchema);
  config.plugins = { [P.plugin.configKey]: { enabled: true, ...section } };
  return new Kernel({ config, plugins: [P] });
}

describe('definePlugin', () => {
  it('makes a plugin class the kernel sets up with its context and validated section', async () => {
    const log: string[] = [];
    const P = definePlugin({
      name: 'weir-plugin-defined',
      configKey: 'defined',
      configSchema,
      kernel: '^0.1.0',
      setup(ctx) {
        log.push(`setup ${ctx.name} every=${ctx.config.every} label=${ctx.config.label}`);
        ctx.provide(SEEN, log);
        ctx.report('DEFINED', () => ({ columns: ['n'], rows: [[log.length]] }));
        return () => void log.push(`cleanup (report still there: ${reports.get('DEFINED') !== undefined})`);
      },
    });
    expect(P.name).toBe('weir-plugin-defined');
    expect(P.plugin).toEqual({ name: 'weir-plugin-defined', configKey: 'defined', configSchema, kernel: '^0.1.0' });
    const kernel = kernelWith(P, { every: '5s' });
    const reports = new Reports();
    kernel.container.register(REPORTS, { useValue: reports });
    await kernel.start();
    expect(kernel.service(SEEN)).toBe(log);
    expect(reports.get('DEFINED')!().rows).toEqual([[1]]);
    await kernel.stop();
    expect(log).toEqual(['setup weir-plugin-defined every=5000 label=x', 'cleanup (report still there: true)']);
    expect(reports.get('DEFINED')).toBeUndefined();
    expect(kernel.service(SEEN)).toBeUndefined();
  });

  it('awaits an async setup, and a plugin without cleanup disposes cleanly', async () => {
    let ready = false;
    const P = definePlugin({
      name: 'async-defined',
      configKey: 'async_defined',
      configSchema: z.strictObject({}),
      async setup() {
        await new Promise((r) => setTimeout(r, 5));
        ready = true;
      },
    });
    const kernel = kernelWith(P);
    await kernel.start();
    expect([ready, kernel.startedPlugins()]).toEqual([true, ['async-defined']]);
    await expect(kernel.stop()).resolves.toBeUndefined();
  });

  it('a setup that throws fails the start with the coded error naming the plugin', async () => {
    const P = definePlugin({
      name: 'broken-defined',
      configKey: 'broken',
      configSchema: z.strictObject({}),
      setup() {
        throw new Error('no way');
      },
    });
    await expect(kernelWith(P).start()).rejects.toMatchObject({ code: 'WEIR_E_PLUGIN_SETUP_FAILED', message: expect.stringContaining('broken-defined') });
  });

  it('its kernel range is checked like any plugin\'s', () => {
    const P = definePlugin({ name: 'future', configKey: 'future', configSchema: z.strictObject({}), kernel: '^9.0.0', setup() {} });
    expect(() => kernelWith(P)).toThrow(expect.objectContaining({ code: 'WEIR_E_PLUGIN_KERNEL_VERSION' }));
  });
});
