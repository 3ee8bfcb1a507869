import { z } from 'zod';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const WHOLE = /^(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)\s*)+$/;
const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/g;

/** "500ms", "30s", "10m", "1h", "1d", "1h30m", "250" or a number (ms) → milliseconds; undefined if not a duration. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text));
  if (!WHOLE.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(PART)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return Math.round(ms);
}

/** zod schema: a duration → number of milliseconds. */
export const duration = z.unknown().transform((value, ctx): number => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration like 500ms, 30s, 10m, 1h, 1d or a number of milliseconds, got ${JSON.stringify(value) ?? String(value)}`,
    });
    return z.NEVER;
  }
  return ms;
}).meta({
  type: ['string', 'number'],
  'x-weir-type': 'duration',
  description: 'A duration: 500ms, 30s, 10m, 1h, 1d, 1h30m, or a number of milliseconds.',
});
