/**
 * Chain-event mirrors that survive reorgs: each stream's cursor keeps the hash of its last applied block, and the
 * mirror remembers the hashes of its recent applied blocks, so that it can tell when the chain replaced or lost
 * them and find the newest block it shares with the chain (src/chain/event-mirror.ts).
 */
export default {
  version: 9,
  name: 'chain-mirror-block-hashes',
  sql: `
    ALTER TABLE chain_cursors ADD COLUMN hash text;

    CREATE TABLE chain_cursor_blocks (
      name  text NOT NULL,
      block bigint NOT NULL,
      hash  text NOT NULL,
      PRIMARY KEY (name, block)
    );
  `,
};
