import { z } from 'zod';

const UNIT_BYTES: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};
const SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/** "64KB", "1MB", "1.5GB", "512B", "4096" or a number → bytes (binary multiples); undefined if not a size. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const m = SIZE.exec(value.trim());
  if (m === null) return undefined;
  const unit = m[2]!.toLowerCase();
  const mult = unit === '' ? 1 : UNIT_BYTES[unit];
  if (mult === undefined) return undefined;
  return Math.floor(Number(m[1]) * mult);
}

/** zod schema: a size → number of bytes. */
export const size = z.unknown().transform((value, ctx): number => {
  const bytes = parseSize(value);
  if (bytes === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a size like 512B, 64KB, 1MB, 2GB or a number of bytes, got ${JSON.stringify(value) ?? String(value)}`,
    });
    return z.NEVER;
  }
  return bytes;
}).meta({
  type: ['string', 'number'],
  'x-weir-type': 'size',
  description: 'A size: 512B, 64KB, 1MB, 2GB (binary multiples), or a number of bytes.',
});
