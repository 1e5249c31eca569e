/** When contributions were withdrawn: what settlement asks so that withdrawn rows stop earning (datanets owns `contributions`). */
import type { Queryable } from '../store/index.js';

/** When each withdrawn contribution among `ids` was withdrawn (contributions not withdrawn are absent). */
export async function contributionsWithdrawnAt(db: Queryable, ids: readonly string[]): Promise<Map<string, Date>> {
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
