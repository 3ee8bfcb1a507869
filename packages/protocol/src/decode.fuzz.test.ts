import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as P from './index.js';
import { DECODERS, coded, mutate, mutation, text, validMessage } from './testing/arbitraries.js';

let runs = 0;

/** Places a body at a random offset inside a larger buffer, so decoders must respect (start, end). */
const framed = (body: Buffer, pad: number): [Buffer, number, number] => {
  const buf = Buffer.alloc(pad + body.length + pad, 0); // zero padding: a NUL just past `end` must not be taken
  body.copy(buf, pad);
  return [buf, pad, pad + body.length];
};

describe('decoders under fast-check', () => {
  it('random bodies: every decoder returns or throws a coded ProtocolError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: DECODERS.length - 1 }), fc.uint8Array({ maxLength: 80 }), fc.nat({ max: 3 }), (i, body, pad) => {
        runs++;
        coded(() => DECODERS[i]![1](...framed(Buffer.from(body), pad)));
      }),
      { numRuns: 30_000 },
    );
  });

  it('mutated valid bodies: every decoder returns or throws a coded ProtocolError', () => {
    fc.assert(
      fc.property(validMessage, fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.nat({ max: 3 }), (msg, muts, pad) => {
        runs++;
        const body = mutate(msg.subarray(5), muts);
        for (const [, decode] of DECODERS) coded(() => decode(...framed(body, pad)));
      }),
      { numRuns: 8_000 },
    );
  });

  it('startup decoder: random and mutated packets', () => {
    const valid = fc.dictionary(text.filter((s) => s !== ''), text, { maxKeys: 3 }).map(P.startupMessage);
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)), fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([s, m]) => mutate(s, m))),
        (pkt) => {
          runs++;
          coded(() => P.decodeStartup(pkt, 0, pkt.length));
        },
      ),
      { numRuns: 8_000 },
    );
  });

  it('encode → decode round trips', () => {
    const rt = fc.oneof(
      text.map((q) => [P.query(q), P.decodeQuery, q] as const),
      fc.tuple(text, text, fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 3 })).map(
        ([n, q, t]) => [P.parse(n, q, t), P.decodeParse, { name: n, query: q, paramTypes: t }] as const,
      ),
      fc.tuple(text, text).map(([p, s]) => [P.bind(p, s, ['x', null]), (b: Buffer, st: number, e: number) => {
        const d = P.decodeBind(b, st, e);
        return { portal: d.portal, statement: d.statement };
      }, { portal: p, statement: s }] as const),
      fc.tuple(text, text).map(([n, v]) => [P.parameterStatus(n, v), P.decodeParameterStatus, { name: n, value: v }] as const),
      fc.array(fc.option(text, { nil: null }), { maxLength: 4 }).map((v) => [P.dataRow(v), P.decodeDataRow, v] as const),
      fc.tuple(fc.stringMatching(/^[0-9A-Z]{5}$/), text).map(([c, m]) => [
        P.errorResponse({ code: c, message: m }),
        P.decodeErrorFields,
        { severity: 'ERROR', severityNonLocalized: 'ERROR', code: c, message: m },
      ] as const),
    );
    fc.assert(
      fc.property(rt, ([msg, decode, expected]) => {
        runs++;
        expect(decode(msg, 5, msg.length)).toEqual(expected);
      }),
      { numRuns: 3_000 },
    );
  });

  it('ran at least 45,000 inputs', () => {
    expect(runs).toBeGreaterThanOrEqual(45_000);
  });
});
