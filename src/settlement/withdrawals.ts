/**
 * Contributors who withdraw a contribution stop earning from it: requests served after the withdrawal pay its
 * share to the DataNet instead; requests served before it still pay the contributor.
 */
import { contributionsWithdrawnAt } from '../datanets/index.js';
import type { Queryable } from '../store/index.js';

/** When each withdrawn contribution among `ids` was withdrawn (asked of datanets, which owns contributions). */
export function withdrawalTimes(db: Queryable, ids: readonly string[]): Promise<Map<string, Date>> {
  return contributionsWithdrawnAt(db, ids);
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
