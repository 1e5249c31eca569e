/**
 * The outcome of attributing one inference: who made the answer possible, in integer parts per million that
 * sum exactly to 1,000,000 together with an explicit unattributed share. Settlement pays contributors from these
 * shares, so the result is deterministic and serialized canonically (same inputs → same bytes → same hash). Its
 * shape is the protocol's (`attributionResult`); the rules it obeys and how shares are computed are here.
 */
import type { Hex } from 'viem';
import { at, BaseError, canonicalJson, hashObject } from '../core/index.js';
import type { AttributionResult } from '../protocol/index.js';

export {
  type AttributionMethod,
  type AttributionResult,
  attributionMethods,
  type ContributionShare,
} from '../protocol/index.js';

export const PPM = 1_000_000;

/** Refuses a result whose shares do not add up, naming the sum. */
export function checkAttribution(r: Pick<AttributionResult, 'sharesPpm' | 'unattributedPpm'>): void {
  const values = Object.values(r.sharesPpm);
  const bad = values.find((v) => !Number.isInteger(v) || v < 0);
  if (bad !== undefined || !Number.isInteger(r.unattributedPpm) || r.unattributedPpm < 0) {
    throw new BaseError('INVALID_ARGUMENT', 'Attribution shares must be non-negative integers (parts per million)', {
      details: { field: 'sharesPpm' },
    });
  }
  const sum = values.reduce((a, b) => a + b, 0) + r.unattributedPpm;
  if (sum !== PPM) {
    throw new BaseError(
      'INVALID_ARGUMENT',
      `Attribution shares sum to ${sum} ppm; they must sum to exactly ${PPM} with the unattributed share`,
      {
        details: { field: 'sharesPpm', sum },
      },
    );
  }
}

/**
 * Integer parts per million from non-negative weights, summing exactly to `total` (largest remainder method,
 * ties broken by key so the result is deterministic).
 */
export function toPpm(weights: ReadonlyMap<string, number>, total = PPM): Map<string, number> {
  const entries = [...weights.entries()]
    .filter(([, w]) => w > 0 && Number.isFinite(w))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const sum = entries.reduce((s, [, w]) => s + w, 0);
  const out = new Map<string, number>();
  if (sum === 0 || total === 0) return out;
  let given = 0;
  const remainders: { key: string; rest: number }[] = [];
  for (const [key, w] of entries) {
    const exact = (w / sum) * total;
    const floor = Math.floor(exact);
    out.set(key, floor);
    given += floor;
    remainders.push({ key, rest: exact - floor });
  }
  remainders.sort((a, b) => b.rest - a.rest || (a.key < b.key ? -1 : 1));
  for (let i = 0; i < total - given; i++) {
    const r = at(remainders, i % remainders.length);
    out.set(r.key, (out.get(r.key) ?? 0) + 1);
  }
  for (const [k, v] of out) if (v === 0) out.delete(k);
  return out;
}

export function attributionHash(r: AttributionResult): Hex {
  return hashObject(r);
}

export function serializeAttribution(r: AttributionResult): string {
  return canonicalJson(r);
}
