/**
 * Where chain-event mirrors keep their place (tables chain_cursors and chain_cursor_blocks, owned here): per
 * stream, the last applied block (number and hash) and the hashes of recent applied blocks. The mirror itself
 * (src/chain/event-mirror.ts) takes this as an injected store, so chain/ needs no database; a domain hands in
 * `chainCursorStore(db, name)` for each stream it mirrors.
 */
import type { Db, Queryable } from './db.js';

export interface ChainCursorBlock {
  number: bigint;
  /** null for a cursor written before hashes were kept: the mirror adopts the chain's hash on its next pass. */
  hash: `0x${string}` | null;
}

export interface ChainCursor {
  name: string;
  block: bigint;
  hash: `0x${string}` | null;
}

/** Every stream's cursor (for start-up checks and status pages). */
export async function chainCursors(db: Queryable): Promise<ChainCursor[]> {
  const { rows } = await db.query<{ name: string; block: bigint; hash: `0x${string}` | null }>(
    'SELECT name, block, hash FROM chain_cursors ORDER BY name',
  );
  return rows.map((r) => ({ name: r.name, block: r.block, hash: r.hash }));
}

/** The cursor store of stream `name`, in the shape the chain-event mirror takes. */
export function chainCursorStore(db: Db, name: string) {
  async function setCursor(tx: Queryable, block: { number: bigint; hash: `0x${string}` }): Promise<void> {
    await tx.query(
      `INSERT INTO chain_cursors (name, block, hash) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET block = EXCLUDED.block, hash = EXCLUDED.hash`,
      [name, block.number.toString(), block.hash],
    );
    await tx.query(
      `INSERT INTO chain_cursor_blocks (name, block, hash) VALUES ($1, $2, $3)
       ON CONFLICT (name, block) DO UPDATE SET hash = EXCLUDED.hash`,
      [name, block.number.toString(), block.hash],
    );
  }

  return {
    transaction: <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => db.transaction(fn),

    /** The cursor first, then the remembered blocks below it, newest first; [] before the first batch. */
    async blocks(tx: Queryable = db): Promise<ChainCursorBlock[]> {
      const cursor = await tx.query<{ block: bigint; hash: `0x${string}` | null }>(
        'SELECT block, hash FROM chain_cursors WHERE name = $1',
        [name],
      );
      const head = cursor.rows[0];
      if (!head) return [];
      const { rows } = await tx.query<{ block: bigint; hash: `0x${string}` }>(
        'SELECT block, hash FROM chain_cursor_blocks WHERE name = $1 AND block < $2 ORDER BY block DESC',
        [name, head.block.toString()],
      );
      return [{ number: head.block, hash: head.hash }, ...rows.map((r) => ({ number: r.block, hash: r.hash }))];
    },

    /** Makes `block` the cursor and remembers its hash, keeping the newest `keep` remembered blocks. */
    async advance(tx: Queryable, block: { number: bigint; hash: `0x${string}` }, keep: number): Promise<void> {
      await setCursor(tx, block);
      await tx.query(
        `DELETE FROM chain_cursor_blocks WHERE name = $1 AND block NOT IN
           (SELECT block FROM chain_cursor_blocks WHERE name = $1 ORDER BY block DESC LIMIT $2)`,
        [name, keep],
      );
    },

    /** Forgets every remembered block above `block` and makes `block` the cursor. */
    async rewind(tx: Queryable, block: { number: bigint; hash: `0x${string}` }): Promise<void> {
      await tx.query('DELETE FROM chain_cursor_blocks WHERE name = $1 AND block > $2', [name, block.number.toString()]);
      await setCursor(tx, block);
    },
  };
}

export type ChainCursorStore = ReturnType<typeof chainCursorStore>;
