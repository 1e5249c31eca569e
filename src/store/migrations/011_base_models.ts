/**
 * Base models the operator registered (`tributary model base add`): the GGUF lives in the blob store under its
 * CID, and its sha-256 is its identity in lineage; the row keeps the name and what the header said about it.
 */
export default {
  version: 11,
  name: 'base-models',
  sql: `
    CREATE TABLE base_models (
      name        text PRIMARY KEY,
      sha256      text NOT NULL UNIQUE,
      cid         text NOT NULL,
      bytes       bigint NOT NULL,
      description text NOT NULL,
      added_at    timestamptz NOT NULL DEFAULT now()
    );
  `,
};
