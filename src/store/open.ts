import { join } from 'node:path';
import { type Logger, silentLogger } from '../core/index.js';
import type { Db } from './db.js';
import { migrate } from './migrate.js';
import { migrations } from './migrations/index.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

export interface OpenStoreOptions {
  /** Postgres server; when absent, PGlite in `<dataDir>/db`. */
  databaseUrl?: string | undefined;
  dataDir: string;
  log?: Logger;
}

/** Opens the node's database and brings its schema up to date. */
export async function openStore(options: OpenStoreOptions): Promise<Db> {
  const log = options.log ?? silentLogger();
  const db = options.databaseUrl
    ? await openPostgres({ url: options.databaseUrl })
    : await openPglite(join(options.dataDir, 'db'));
  try {
    await migrate(db, migrations, log);
  } catch (e) {
    await db.close();
    throw e;
  }
  log.info({ dialect: db.dialect, location: db.location }, 'store ready');
  return db;
}
