/**
 * Greedy, bounded shrinking of a failing fuzz case against a live weir: drop messages one at a
 * time, trim their tails, then drop the write splits and the pauses, keeping each step that still
 * fails the same way.
 */
import type { FuzzCase } from './cases.js';

export interface Shrunk {
  /** Whether the case fails on its own on a fresh weir (false: it needed earlier cases' state). */
  alone: boolean;
  smallest: FuzzCase;
  trials: number;
}

/**
 * `fails(c)` runs `c` on a healthy weir and says whether it fails with the same signature (it
 * restarts weir itself when a trial broke it). At most `maxTrials` runs and `budgetMs` of wall time.
 */
export async function shrink(c: FuzzCase, fails: (c: FuzzCase) => Promise<boolean>, maxTrials = 30, budgetMs = 20_000): Promise<Shrunk> {
  const deadline = Date.now() + budgetMs;
  let trials = 1;
  if (!(await fails(c))) return { alone: false, smallest: c, trials };
  let best = c;
  const more = () => trials < maxTrials && Date.now() < deadline;
  const attempt = async (cand: FuzzCase) => {
    trials++;
    if (await fails(cand)) {
      best = cand;
      return true;
    }
    return false;
  };
  for (let i = best.messages.length - 1; i >= 0 && more(); i--) {
    if (best.messages.length === 1) break;
    await attempt({ ...best, messages: best.messages.filter((_, j) => j !== i) });
  }
  // Trim the tail of each remaining message, biggest steps first.
  for (let i = best.messages.length - 1; i >= 0 && more(); i--) {
    for (let k = best.messages[i]!.length >> 1; k >= 1 && more(); k >>= 1) {
      const m = best.messages[i]!;
      if (k >= m.length) continue;
      await attempt({ ...best, messages: best.messages.map((x, j) => (j === i ? m.subarray(0, m.length - k) : x)) });
    }
  }
  if (best.cuts.length && more()) await attempt({ ...best, cuts: [], pauses: [] });
  if (best.pauses.some(Boolean) && more()) await attempt({ ...best, pauses: [] });
  if (best.ending !== 'destroy' && more()) await attempt({ ...best, ending: 'destroy' });
  return { alone: true, smallest: best, trials };
}
