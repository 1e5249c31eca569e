/**
 * The database seam: one Postgres schema, reached either through embedded PGlite (the default, persisted in
 * the data directory) or a Postgres server (`DATABASE_URL`). Both return the same JavaScript types: int8 as
 * bigint (money never passes through a float), numeric as string, jsonb parsed, timestamptz as Date.
 */
import { BaseError } from '../core/index.js';

export type Row = Record<string, unknown>;

export interface QueryResult<T extends Row = Row> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  /** One statement with $1… parameters. */
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly dialect: 'pglite' | 'postgres';
  /** Where the data lives, for messages (a directory, "memory", or the server URL without password). */
  readonly location: string;
  /** Runs `fn` in a transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Postgres type oids whose parsing both backends override. */
export const INT8_OID = 20;

/** SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = '23505';

/**
 * What a failed statement throws, on both backends (pg and PGlite raise the same DatabaseError fields): a unique
 * violation becomes CONFLICT naming the constraint and table (not the key's values); anything else stays as it
 * was thrown.
 */
export function storeError(e: unknown): unknown {
  if (typeof e !== 'object' || e === null || !('code' in e) || e.code !== UNIQUE_VIOLATION) return e;
  const constraint = 'constraint' in e && typeof e.constraint === 'string' ? e.constraint : null;
  const table = 'table' in e && typeof e.table === 'string' ? e.table : null;
  return new BaseError(
    'CONFLICT',
    `A row with the same key already exists${table ? ` in ${table}` : ''} (unique constraint ${constraint ?? 'unknown'})`,
    { details: { constraint, table, sqlState: UNIQUE_VIOLATION }, cause: e },
  );
}
