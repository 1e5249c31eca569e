/**
 * Versioned migrations. Each runs in its own transaction with its record, under an advisory lock, so
 * concurrent nodes starting against one Postgres apply each migration exactly once. The checksum of every
 * applied migration is kept: a migration edited after it ran is refused instead of silently diverging.
 */
import { BaseError, type Logger, messageOf, sha256, silentLogger } from '../core/index.js';
import type { Db } from './db.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Arbitrary constant key for pg_advisory_xact_lock: "tributary migrations". */
const LOCK_KEY = 7_142_001;

export function checksum(m: Migration): string {
  return Buffer.from(sha256(m.sql.trim())).toString('hex');
}

function failed(message: string, details: Record<string, unknown>, cause?: unknown): BaseError {
  return new BaseError('MIGRATION_FAILED', message, { details, docsPath: 'docs/architecture.md#database', cause });
}

/** Applies the migrations not yet applied, in version order; returns the versions it applied. */
export async function migrate(db: Db, list: readonly Migration[], log: Logger = silentLogger()): Promise<number[]> {
  const sorted = [...list].sort((a, b) => a.version - b.version);
  sorted.forEach((m, i) => {
    if (m.version !== i + 1)
      throw failed(`Migration list is not contiguous: expected version ${i + 1}, found ${m.version} (${m.name})`, {
        version: m.version,
      });
  });

  // Under the lock too: concurrent CREATE TABLE IF NOT EXISTS races in Postgres (pg_type unique violation).
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await tx.exec(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  });
  const applied: number[] = [];
  for (const m of sorted) {
    const didApply = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
      const { rows } = await tx.query<{ version: number; name: string; checksum: string }>(
        'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
      );
      const known = rows.find((r) => r.version === m.version);
      if (known) {
        if (known.checksum !== checksum(m)) {
          throw failed(
            `Migration ${m.version} (${m.name}) was changed after it was applied: checksum ${checksum(m).slice(0, 12)} differs from applied ${known.checksum.slice(0, 12)}`,
            {
              version: m.version,
              name: m.name,
            },
          );
        }
        return false;
      }
      try {
        await tx.exec(m.sql);
      } catch (e) {
        throw failed(
          `Migration ${m.version} (${m.name}) failed: ${messageOf(e)}`,
          { version: m.version, name: m.name },
          e,
        );
      }
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        checksum(m),
      ]);
      return true;
    });
    if (didApply) {
      applied.push(m.version);
      log.info({ version: m.version, name: m.name }, 'migration applied');
    }
  }
  const { rows } = await db.query<{ version: number; name: string }>(
    'SELECT version, name FROM schema_migrations WHERE version > $1 ORDER BY version',
    [sorted.length],
  );
  const unknown = rows[0];
  if (unknown) {
    throw failed(
      `Database ${db.location} has migration ${unknown.version} (${unknown.name}), which this version of Tributary does not know; upgrade Tributary`,
      {
        version: unknown.version,
      },
    );
  }
  return applied;
}
