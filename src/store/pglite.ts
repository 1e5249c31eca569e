import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { BaseError } from '../core/index.js';
import { type Db, INT8_OID, type Queryable, type Row, storeError } from './db.js';

/** Opens an embedded PGlite database persisted in `dataDir`, or in memory when `dataDir` is undefined. */
export async function openPglite(dataDir?: string): Promise<Db> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  let pg: PGlite;
  try {
    pg = new PGlite({ ...(dataDir ? { dataDir } : {}), parsers: { [INT8_OID]: (v: string) => BigInt(v) } });
    await pg.waitReady;
  } catch (e) {
    throw new BaseError(
      'STORE_UNAVAILABLE',
      `Cannot open the embedded database in ${dataDir ?? 'memory'}: ${String(e)}`,
      {
        details: { dataDir: dataDir ?? null },
        cause: e,
      },
    );
  }
  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): Queryable => ({
    async query<T extends Row>(sql: string, params: readonly unknown[] = []) {
      const r = await q.query<T>(sql, [...params]).catch((e: unknown) => Promise.reject(storeError(e)));
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
    async exec(sql: string) {
      await q.exec(sql).catch((e: unknown) => Promise.reject(storeError(e)));
    },
  });
  return {
    dialect: 'pglite',
    location: dataDir ?? 'memory',
    ...wrap(pg),
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))).catch((e: unknown) => Promise.reject(storeError(e))),
    close: () => pg.close(),
  };
}
