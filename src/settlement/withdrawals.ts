/**
 * Contributors who withdraw a contribution stop earning from it: requests served after the withdrawal pay its
 * share to the DataNet instead; requests served before it still pay the contributor.
 */
import type { Queryable } from '../store/index.js';

/** When each withdrawn contribution among `ids` was withdrawn. */
export async function withdrawalTimes(db: Queryable, ids: readonly string[]): Promise<Map<string, Date>> {
  const unique = [...new Set(ids)];
  const out = new Map<string, Date>();
  for (let i = 0; i < unique.length; i += 5_000) {
    const { rows } = await db.query<{ id: string; withdrawn_at: Date }>(
      `SELECT id, withdrawn_at FROM contributions WHERE status = 'withdrawn' AND id = ANY($1::text[])`,
      [unique.slice(i, i + 5_000)],
    );
    for (const r of rows) out.set(r.id, r.withdrawn_at);
  }
  return out;
}

/** The contributions of a receipt that earn: those not withdrawn at the time of the request. */
export function earningContributions<T extends { id: string }>(
  contributions: readonly T[],
  withdrawn: ReadonlyMap<string, Date>,
  requestAt: Date,
): T[] {
  return contributions.filter((c) => {
    const at = withdrawn.get(c.id);
    return at === undefined || at > requestAt;
  });
}
