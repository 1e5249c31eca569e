import pg from 'pg';
import { BaseError, messageOf } from '../core/index.js';
import { type Db, INT8_OID, type Queryable, type Row, storeError } from './db.js';

export interface PostgresOptions {
  url: string;
  /** Work inside this schema (created if missing): isolates tests and lets several nodes share a server. */
  schema?: string;
  maxConnections?: number;
}

/** The URL with its password masked, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export async function openPostgres(options: PostgresOptions): Promise<Db> {
  const { url, schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new BaseError('INVALID_ARGUMENT', `Invalid schema name "${schema}": use lower-case letters, digits and _`, {
      details: { field: 'schema' },
    });
  }
  // Per-pool type parsers: int8 as bigint, without touching pg's global parser table.
  const typeParsers: pg.CustomTypesConfig = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID ? (v: string) => BigInt(v) : pg.types.getTypeParser(oid, format ?? 'text'),
  };
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    types: typeParsers,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it. Queries report their own errors.
  });
  try {
    const client = await pool.connect();
    try {
      if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      client.release();
    }
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new BaseError('STORE_UNAVAILABLE', `Cannot connect to Postgres at ${redactUrl(url)}: ${messageOf(e)}`, {
      details: { url: redactUrl(url) },
      cause: e,
    });
  }
  const wrap = (q: pg.Pool | pg.PoolClient): Queryable => ({
    async query<T extends Row>(sql: string, params: readonly unknown[] = []) {
      const r = await q.query<T>(sql, [...params]).catch((e: unknown) => Promise.reject(storeError(e)));
      return { rows: r.rows, rowCount: r.rowCount ?? r.rows.length };
    },
    async exec(sql: string) {
      await q.query(sql).catch((e: unknown) => Promise.reject(storeError(e)));
    },
  });
  return {
    dialect: 'postgres',
    location: redactUrl(url) + (schema ? ` (schema ${schema})` : ''),
    ...wrap(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw storeError(e);
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
