import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeBackends } from '../../test/fixtures/db.js';
import { rejectionOf } from '../../test/fixtures/errors.js';
import type { Db } from './db.js';
import { getMeta, setMeta } from './meta.js';
import { checksum, type Migration, migrate } from './migrate.js';
import { migrations } from './migrations/index.js';
import { openPglite } from './pglite.js';

const m = (version: number, name: string, sql: string): Migration => ({ version, name, sql });

describe.each(storeBackends())('store on $name', (backend) => {
  let db: Db;
  beforeEach(async () => {
    db = await backend.open();
  });
  afterEach(async () => {
    await db.close();
  });

  it('returns int8 as bigint, numeric as string, jsonb parsed and timestamptz as Date', async () => {
    const big = 2n ** 62n + 1n;
    const { rows } = await db.query<{ a: bigint; b: string; c: unknown; d: Date }>(
      `SELECT $1::int8 AS a, 1.5::numeric AS b, '{"x":[1]}'::jsonb AS c, now() AS d`,
      [big.toString()],
    );
    expect(rows[0]?.a).toBe(big);
    expect(rows[0]?.b).toBe('1.5');
    expect(rows[0]?.c).toEqual({ x: [1] });
    expect(rows[0]?.d).toBeInstanceOf(Date);
  });

  it('commits transactions that resolve and rolls back those that throw', async () => {
    await db.exec('CREATE TABLE t (v int)');
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO t VALUES (1)');
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO t VALUES (2)');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const { rows } = await db.query<{ v: number }>('SELECT v FROM t ORDER BY v');
    expect(rows.map((r) => r.v)).toEqual([1]);
  });

  it('turns a unique violation into CONFLICT naming the constraint, in and out of transactions', async () => {
    await db.exec('CREATE TABLE u (id int PRIMARY KEY, name text CONSTRAINT u_name_unique UNIQUE)');
    await db.query('INSERT INTO u VALUES (1, $1)', ['a']);
    const e = await rejectionOf(db.query('INSERT INTO u VALUES (2, $1)', ['a']));
    expect([e.code, e.message, e.details]).toEqual([
      'CONFLICT',
      'A row with the same key already exists in u (unique constraint u_name_unique)',
      { constraint: 'u_name_unique', table: 'u', sqlState: '23505' },
    ]);
    expect((e.cause as { code?: string }).code).toBe('23505');
    const inTx = await rejectionOf(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO u VALUES (3, $1)', ['b']);
        await tx.query('INSERT INTO u VALUES (1, $1)', ['c']);
      }),
    );
    expect([inTx.code, inTx.details.constraint]).toEqual(['CONFLICT', 'u_pkey']);
    const viaExec = await rejectionOf(db.exec("INSERT INTO u VALUES (4, 'a')"));
    expect(viaExec.details.constraint).toBe('u_name_unique');
    const { rows } = await db.query<{ id: number }>('SELECT id FROM u ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual([1]);
  });

  it('leaves other database errors as the driver threw them', async () => {
    const e = await db.query('SELECT nope FROM nowhere').then(
      () => undefined,
      (err: unknown) => err as { code?: string; message: string },
    );
    expect([e?.code, e?.message]).toEqual(['42P01', 'relation "nowhere" does not exist']);
  });

  it('applies the project migrations once and keeps their checksums', async () => {
    expect(await migrate(db, migrations)).toEqual(migrations.map((x) => x.version));
    expect(await migrate(db, migrations)).toEqual([]);
    const { rows } = await db.query<{ version: number; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations ORDER BY version',
    );
    expect(rows).toEqual(migrations.map((x) => ({ version: x.version, checksum: checksum(x) })));
  });

  it('stores node facts as JSON', async () => {
    await migrate(db, migrations);
    expect(await getMeta(db, 'k')).toBeUndefined();
    await setMeta(db, 'k', { chainId: 1 });
    await setMeta(db, 'k', { chainId: 2 });
    expect(await getMeta(db, 'k')).toEqual({ chainId: 2 });
  });

  it('refuses a migration edited after it was applied', async () => {
    await migrate(db, [m(1, 'one', 'CREATE TABLE one (a int)')]);
    const e = await rejectionOf(migrate(db, [m(1, 'one', 'CREATE TABLE one (a bigint)')]));
    expect(e.code).toBe('MIGRATION_FAILED');
    expect(e.message).toMatch(
      /^Migration 1 \(one\) was changed after it was applied: checksum [0-9a-f]{12} differs from applied [0-9a-f]{12}$/,
    );
  });

  it('rolls back a failing migration and names it, keeping earlier ones', async () => {
    const e = await rejectionOf(
      migrate(db, [
        m(1, 'one', 'CREATE TABLE one (a int)'),
        m(2, 'two', 'CREATE TABLE two (a int); SELECT nope FROM one'),
      ]),
    );
    expect(e.message).toBe('Migration 2 (two) failed: column "nope" does not exist');
    const { rows } = await db.query<{ version: number }>('SELECT version FROM schema_migrations');
    expect(rows.map((r) => r.version)).toEqual([1]);
    const tables = await db.query(
      `SELECT 1 FROM information_schema.tables WHERE table_name = 'two' AND table_schema = current_schema()`,
    );
    expect(tables.rows).toEqual([]);
  });

  it('refuses a database migrated by a newer version', async () => {
    await migrate(db, [m(1, 'one', 'SELECT 1'), m(2, 'two', 'SELECT 2')]);
    const e = await rejectionOf(migrate(db, [m(1, 'one', 'SELECT 1')]));
    expect(e.message).toBe(
      `Database ${db.location} has migration 2 (two), which this version of Tributary does not know; upgrade Tributary`,
    );
  });

  it('refuses gaps in the migration list', async () => {
    const e = await rejectionOf(migrate(db, [m(1, 'one', 'SELECT 1'), m(3, 'three', 'SELECT 3')]));
    expect(e.message).toBe('Migration list is not contiguous: expected version 2, found 3 (three)');
  });

  it('applies each migration once when nodes migrate concurrently', async () => {
    const list = [m(1, 'counter', 'CREATE TABLE counter (n int); INSERT INTO counter VALUES (1)')];
    const results = await Promise.all([migrate(db, list), migrate(db, list), migrate(db, list)]);
    expect(results.flat()).toEqual([1]);
    const { rows } = await db.query('SELECT n FROM counter');
    expect(rows).toHaveLength(1);
  });
});

describe('PGlite persistence', () => {
  it('keeps data in its directory across reopen', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pglite-')), 'db');
    const first = await openPglite(dir);
    await migrate(first, migrations);
    await setMeta(first, 'x', 42);
    await first.close();
    const second = await openPglite(dir);
    expect(await getMeta(second, 'x')).toBe(42);
    await second.close();
  });
});
