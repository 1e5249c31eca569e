/** Models as ModelRegistry says they are (mirrored from its events): owners, names, prices, versions, lineage. */
export default {
  version: 4,
  name: 'models',
  sql: `
    CREATE TABLE models (
      id              bigint PRIMARY KEY,
      name            text NOT NULL UNIQUE,
      owner           text NOT NULL,
      base_model_hash text NOT NULL,
      price_in        numeric(78, 0) NOT NULL,
      price_out       numeric(78, 0) NOT NULL,
      active          boolean NOT NULL DEFAULT true,
      registered_block bigint NOT NULL
    );

    CREATE TABLE model_versions (
      model_id        bigint NOT NULL REFERENCES models (id),
      version         integer NOT NULL,
      adapter_hash    text NOT NULL,
      datanet_id      bigint,
      datanet_version integer,
      datanet_root    text,
      config_hash     text NOT NULL,
      receipt_cid     text NOT NULL,
      published_block bigint NOT NULL,
      PRIMARY KEY (model_id, version)
    );
    CREATE INDEX model_versions_by_adapter ON model_versions (adapter_hash);
  `,
};
