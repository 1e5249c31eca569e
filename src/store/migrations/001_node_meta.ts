/** Facts about this node's data: which chain and deployment it belongs to, set once and checked at start. */
export default {
  version: 1,
  name: 'node_meta',
  sql: `
    CREATE TABLE node_meta (
      key        text PRIMARY KEY,
      value      jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
  `,
};
