/** The public surface plugin authors and hosts build against (API.md). Type errors here fail `npm run typecheck`. */
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as kernel from './index.js';
import type { Lease, Pool, PoolRegistry, RegistryEntry, ConnectContext } from './index.js';

describe('@weir/kernel public API', () => {
  it('exports every contracted value', () => {
    for (const name of [
      'WeirError',
      'ErrorCodes',
      'ERROR_CATALOG',
      'ClientError',
      'clientErrorOf',
      'systemClock',
      'FakeClock',
      'createLogger',
      'silentLogger',
      'Pool',
      'Hooks',
      'PoolRegistry',
      'poolKeyId',
      'duration',
      'size',
      'interpolateEnv',
      'parseConfig',
      'loadConfigFile',
      'diffConfig',
      'formatZodIssues',
      'generalSchema',
      'TOKENS',
      'createToken',
      'Kernel',
      'validatePluginSections',
      'inject',
      'injectable',
    ]) {
      expect(kernel, name).toHaveProperty(name);
    }
    expect(Object.values(kernel.ErrorCodes).every((c) => c.startsWith('WEIR_E_'))).toBe(true);
    expect(Object.keys(kernel.TOKENS).sort()).toEqual(
      ['Clock', 'Config', 'Hooks', 'Kernel', 'Logger', 'Metrics', 'PluginConfig', 'PluginContext', 'PoolFactory', 'PoolRegistry'].sort(),
    );
  });

  it('a Pool of anything fits where a Pool is expected', () => {
    expectTypeOf<Pool<{ socket: number }>>().toExtend<Pool>();
    expectTypeOf<RegistryEntry['pool']>().toEqualTypeOf<Pool>();
    expectTypeOf<ReturnType<Pool<string>['acquire']>>().toEqualTypeOf<Promise<Lease<string>>>();
    expectTypeOf<PoolRegistry['get']>().returns.toEqualTypeOf<RegistryEntry | undefined>();
    expectTypeOf<ConnectContext['signal']>().toEqualTypeOf<AbortSignal>();
  });

  it('the logger writes JSON lines', () => {
    const chunks: string[] = [];
    const logger = kernel.createLogger({
      level: 'info',
      name: 'weir',
      destination: { write: (s: string) => (chunks.push(s), true) } as unknown as NodeJS.WritableStream,
    });
    logger.info({ pool: 'u@d' }, 'hello');
    const line = JSON.parse(chunks.join('').trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', name: 'weir', pool: 'u@d', msg: 'hello' });
    expect(() => kernel.silentLogger().error('nothing')).not.toThrow();
  });
});
