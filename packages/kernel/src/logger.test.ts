import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { prettyLine } from './log-pretty.js';
import { serializeError } from './log-error.js';
import { WeirError } from './errors.js';

function capture(format: 'json' | 'pretty', level = 'info') {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  const logger = createLogger({ level, format, destination: out, name: 'weir' });
  return { logger, text: () => text };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('createLogger', () => {
  it('json: level names, not numbers', async () => {
    const c = capture('json');
    c.logger.warn({ pool: 'app@appdb' }, 'hello');
    await tick();
    expect(JSON.parse(c.text())).toMatchObject({ level: 'warn', name: 'weir', pool: 'app@appdb', msg: 'hello' });
  });

  it('pretty: one readable line per event, fields as key=value', async () => {
    const c = capture('pretty');
    c.logger.info({ pool: 'app@appdb', user: 'a b' }, 'server connection closed');
    c.logger.error({ err: new WeirError('WEIR_E_X', 'broken', { pool: 'p' }) }, 'it failed');
    await tick();
    const lines = c.text().trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO  weir: server connection closed pool=app@appdb user="a b"$/);
    expect(lines[1]).toMatch(/ERROR weir: it failed err=\{"type":"WeirError","message":"broken","code":"WEIR_E_X","pool":"p"\}$/);
  });

  it('routine errors carry no stack; a bug (no code) does, and so does everything at debug', async () => {
    const c = capture('json');
    const sys = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    c.logger.warn({ err: sys }, 'server connection lost');
    c.logger.error({ err: new TypeError('x is undefined') }, 'plugin failed');
    await tick();
    const [a, b] = c.text().trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(a.err).toEqual({ type: 'Error', message: 'read ECONNRESET', code: 'ECONNRESET' });
    expect(b.err.stack).toContain('TypeError: x is undefined');
    const d = capture('json', 'debug');
    d.logger.warn({ err: sys }, 'server connection lost');
    await tick();
    expect(JSON.parse(d.text()).err.stack).toContain('ECONNRESET');
  });
});

describe('serializeError', () => {
  it('keeps a cause as its own entry instead of repeating it in the message', () => {
    const cause = new TypeError('boom');
    const e = new WeirError('WEIR_E_MESSAGE_HOOK_FAILED', 'plugin p failed in its hook: boom', { plugin: 'p', sqlstate: 'XX000' }, { cause });
    const s = serializeError(e, false) as Record<string, any>;
    expect(s.message).toBe('plugin p failed in its hook: boom');
    expect(s).toMatchObject({ code: 'WEIR_E_MESSAGE_HOOK_FAILED', plugin: 'p', sqlstate: 'XX000' });
    expect(s.stack).toBeUndefined();
    expect(s.cause).toMatchObject({ type: 'TypeError', message: 'boom' });
    expect(s.cause.stack).toContain('boom');
    expect(serializeError('just a string', false)).toBe('just a string');
  });

  it('pretty lines pass through what is not JSON', () => {
    expect(prettyLine('not json')).toBe('not json');
  });
});
