import { describe, expect, it } from 'vitest';
import { DatabaseControl } from './control.js';

describe('DatabaseControl', () => {
  it('PAUSE db holds that database only; RESUME db releases it', async () => {
    const c = new DatabaseControl();
    c.pause('a');
    expect(c.whenRunning('b')).toBeNull();
    const gate = c.whenRunning('a');
    expect(gate).not.toBeNull();
    let done = false;
    void gate!.then(() => { done = true; });
    expect(c.resume('b')).toBe(false);
    await Promise.resolve();
    expect(done).toBe(false);
    expect(c.resume('a')).toBe(true);
    await gate;
    expect(done).toBe(true);
  });

  it('PAUSE without a name holds all; RESUME without a name lifts every pause', async () => {
    const c = new DatabaseControl();
    c.pause();
    c.pause('a');
    expect(c.isPaused('b')).toBe(true);
    const gate = c.whenRunning('a')!;
    c.resume();
    await gate;
    expect(c.whenRunning('a')).toBeNull();
  });

  it('DISABLE / ENABLE', () => {
    const c = new DatabaseControl();
    c.disable('a');
    expect(c.isDisabled('a')).toBe(true);
    expect(c.isDisabled('b')).toBe(false);
    c.enable('a');
    expect(c.isDisabled('a')).toBe(false);
  });
});
