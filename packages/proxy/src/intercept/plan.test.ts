import { describe, expect, it } from 'vitest';
import { Msg } from '@weir/protocol';
import { Plan, Kind, kindOf, ends } from './plan.js';
import { Answer } from './hooks.js';

describe('Plan', () => {
  it('knows when its entries are plain forwards nobody waits on (what a native link may carry)', () => {
    const plan = new Plan();
    expect(plan.plainForwards()).toBe(true);
    plan.push(Kind.Bind, Answer.Forward, null, null);
    plan.push(Kind.Sync, Answer.Forward, null, null);
    expect(plan.plainForwards()).toBe(true);
    plan.push(Kind.Execute, Answer.Forward, null, () => {});
    expect(plan.plainForwards()).toBe(false); // an owner waits for the Execute's answer
    plan.shift(false);
    plan.shift(false);
    plan.shift(false);
    expect(plan.plainForwards()).toBe(true);
    plan.push(Kind.Parse, Answer.Hide, null, null);
    expect(plan.plainForwards()).toBe(false); // a hidden answer
    plan.clear();
    expect(plan.plainForwards()).toBe(true);
  });

  it('is a FIFO that grows past its first 64 entries without losing order or callbacks', () => {
    const plan = new Plan();
    const seen: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 200; i++) plan.push(i % 7, Answer.Forward, null, (failed) => void seen.push(failed ? -i : i));
      expect(plan.length).toBe(200);
      for (let i = 0; i < 200; i++) {
        expect(plan.headKind()).toBe(i % 7);
        plan.shift(false);
      }
      expect(plan.length).toBe(0);
      expect(plan.headKind()).toBe(-1);
    }
    expect(seen).toEqual([0, 1, 2].flatMap(() => Array.from({ length: 200 }, (_, i) => i)));
  });

  it('wraps around the ring while pushing and shifting alternately', () => {
    const plan = new Plan();
    const out: number[] = [];
    let next = 0;
    for (let i = 0; i < 1000; i++) {
      plan.push(Kind.Bind, i % 3 === 0 ? Answer.Hide : Answer.Forward, null, () => void out.push(next++));
      plan.push(Kind.Execute, Answer.Forward, null, null);
      plan.shift(false);
      if (i % 2 === 1) plan.shift(false);
    }
    while (plan.length > 0) plan.shift(false);
    expect(out).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(plan.special).toBe(0);
  });

  it('counts special entries (hidden answers, replies) so the plain path can be taken when there are none', () => {
    const plan = new Plan();
    plan.push(Kind.Parse, Answer.Forward, null, null);
    expect(plan.special).toBe(0);
    plan.push(Kind.Parse, Answer.Hide, null, null);
    plan.push(Kind.Reply, Answer.Forward, Buffer.from('x'), null);
    plan.push(Kind.Query, Answer.HideExceptReady, null, null);
    expect(plan.special).toBe(3);
    expect(plan.onlyReplies()).toBe(false);
    plan.shift(false);
    plan.shift(false);
    expect(plan.special).toBe(2);
    expect(plan.headKind()).toBe(Kind.Reply);
    expect(plan.headReply()?.toString()).toBe('x');
    plan.shift(false);
    plan.shift(false);
    expect(plan.special).toBe(0);
    plan.push(Kind.Reply, Answer.Forward, Buffer.from('y'), null);
    expect(plan.onlyReplies()).toBe(true);
  });

  it('failToSync fails the head and skips everything up to the next Sync', () => {
    const plan = new Plan();
    const log: string[] = [];
    const cb = (name: string) => (failed: boolean, skipped: boolean) => void log.push(`${name}:${failed}:${skipped}`);
    plan.push(Kind.Bind, Answer.Forward, null, cb('bind'));
    plan.push(Kind.Parse, Answer.Hide, null, cb('parse'));
    plan.push(Kind.Reply, Answer.Forward, Buffer.from('r'), cb('reply'));
    plan.push(Kind.Execute, Answer.Forward, null, cb('exec'));
    plan.push(Kind.Sync, Answer.Forward, null, cb('sync'));
    plan.push(Kind.Parse, Answer.Forward, null, cb('next'));
    plan.failToSync();
    // last first: what each assumed is undone in reverse order
    expect(log).toEqual(['exec:true:true', 'reply:true:true', 'parse:true:true', 'bind:true:false']);
    expect(plan.headKind()).toBe(Kind.Sync);
    expect(plan.special).toBe(0);
    plan.shift(false);
    plan.shift(false);
    expect(log.slice(4)).toEqual(['sync:false:false', 'next:false:false']);
  });

  it('when the Sync has not been sent yet, later pushes fail at once until it comes', () => {
    const plan = new Plan();
    const log: string[] = [];
    const cb = (name: string) => (failed: boolean, skipped: boolean) => void log.push(`${name}:${failed}:${skipped}`);
    plan.push(Kind.Bind, Answer.Forward, null, cb('bind'));
    plan.failToSync();
    expect(plan.length).toBe(0);
    plan.push(Kind.Execute, Answer.Forward, null, cb('exec'));
    plan.push(Kind.Reply, Answer.Forward, Buffer.from('r'), cb('reply'));
    plan.push(Kind.Query, Answer.Forward, null, cb('query')); // ignored by the server too
    expect(plan.length).toBe(0);
    expect(plan.special).toBe(0);
    plan.push(Kind.Sync, Answer.Forward, null, cb('sync'));
    plan.push(Kind.Parse, Answer.Forward, null, cb('parse'));
    expect(plan.length).toBe(2);
    plan.shift(false);
    plan.shift(false);
    expect(log).toEqual(['bind:true:false', 'exec:true:true', 'reply:true:true', 'query:true:true', 'sync:false:false', 'parse:false:false']);
  });

  it('markHeadFailed: a simple query or Sync answered by an error fails when its ReadyForQuery ends it', () => {
    const plan = new Plan();
    const log: boolean[] = [];
    plan.push(Kind.Query, Answer.Forward, null, (f) => void log.push(f));
    plan.push(Kind.Query, Answer.Forward, null, (f) => void log.push(f));
    plan.markHeadFailed();
    plan.shift(false);
    plan.shift(false);
    expect(log).toEqual([true, false]);
  });

  it('clear fails every entry as skipped and forgets a pending skip', () => {
    const plan = new Plan();
    const log: string[] = [];
    plan.push(Kind.Parse, Answer.Hide, null, (f, s) => void log.push(`${f}:${s}`));
    plan.push(Kind.Reply, Answer.Forward, Buffer.from('r'), (f, s) => void log.push(`${f}:${s}`));
    plan.clear();
    expect(log).toEqual(['true:true', 'true:true']);
    expect(plan.special).toBe(0);
    plan.push(Kind.Bind, Answer.Forward, null, null);
    plan.failToSync();
    plan.clear();
    plan.push(Kind.Bind, Answer.Forward, null, null);
    expect(plan.length).toBe(1);
  });

  it('kinds and the messages that end them', () => {
    expect(kindOf(Msg.Parse)).toBe(Kind.Parse);
    expect(kindOf(Msg.FunctionCall)).toBe(Kind.Query);
    expect(kindOf(Msg.Flush)).toBe(-1);
    expect(kindOf(Msg.CopyData)).toBe(-1);
    expect(ends(Kind.Describe, Msg.ParameterDescription)).toBe(false);
    expect(ends(Kind.Describe, Msg.NoData)).toBe(true);
    expect(ends(Kind.Execute, Msg.DataRow)).toBe(false);
    expect(ends(Kind.Execute, Msg.PortalSuspended)).toBe(true);
    expect(ends(Kind.Execute, Msg.EmptyQueryResponse)).toBe(true);
    expect(ends(Kind.Query, Msg.CommandComplete)).toBe(false);
    expect(ends(Kind.Sync, Msg.ReadyForQuery)).toBe(true);
  });
});
