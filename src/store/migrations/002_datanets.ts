/**
 * DataNets: the chain's view (DataNets, curators, committed versions) mirrored from registry events, and the
 * node's own records (signed contributions, curator decisions, version drafts and members).
 */
export default {
  version: 2,
  name: 'datanets',
  sql: `
    CREATE TABLE datanets (
      id              bigint PRIMARY KEY,
      owner           text NOT NULL,
      treasury        text NOT NULL,
      metadata_cid    text NOT NULL,
      metadata        jsonb,
      schema_hash     text NOT NULL,
      license_id      text NOT NULL,
      bond_amount     numeric(78, 0) NOT NULL,
      forfeit_bps     integer NOT NULL,
      created_block   bigint NOT NULL
    );

    CREATE TABLE datanet_curators (
      datanet_id bigint NOT NULL REFERENCES datanets (id),
      account    text NOT NULL,
      PRIMARY KEY (datanet_id, account)
    );

    CREATE TABLE contributions (
      id                  text PRIMARY KEY,
      seq                 bigserial UNIQUE,
      datanet_id          bigint NOT NULL REFERENCES datanets (id),
      contributor         text NOT NULL,
      content_hash        text NOT NULL,
      cid                 text NOT NULL,
      license_id          text NOT NULL,
      nonce               numeric(78, 0) NOT NULL,
      deadline            bigint NOT NULL,
      signature           text NOT NULL,
      status              text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
      bytes               integer NOT NULL,
      minhash             bytea NOT NULL,
      redacted            jsonb NOT NULL DEFAULT '{}',
      source              text,
      created_at          timestamptz NOT NULL DEFAULT now(),
      withdrawn_at        timestamptz,
      absent_from_version integer
    );
    -- Exact deduplication: one live row per content in a DataNet (a withdrawn row frees its content).
    CREATE UNIQUE INDEX contributions_live_content ON contributions (datanet_id, content_hash) WHERE status <> 'withdrawn';
    CREATE INDEX contributions_queue ON contributions (datanet_id, status, seq);
    CREATE INDEX contributions_by_contributor ON contributions (contributor);

    -- Every signature nonce ever accepted, so no signed message is accepted twice.
    CREATE TABLE used_nonces (
      signer text NOT NULL,
      nonce  numeric(78, 0) NOT NULL,
      PRIMARY KEY (signer, nonce)
    );

    -- Append-only audit log of curator decisions.
    CREATE TABLE reviews (
      id              bigserial PRIMARY KEY,
      datanet_id      bigint NOT NULL REFERENCES datanets (id),
      contribution_id text NOT NULL REFERENCES contributions (id),
      curator         text NOT NULL,
      decision        text NOT NULL CHECK (decision IN ('approve', 'reject')),
      reason          text NOT NULL,
      reason_hash     text NOT NULL,
      spam            boolean NOT NULL DEFAULT false,
      nonce           numeric(78, 0) NOT NULL,
      signature       text NOT NULL,
      created_at      timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX reviews_by_datanet ON reviews (datanet_id, id);

    CREATE TABLE datanet_versions (
      datanet_id     bigint NOT NULL REFERENCES datanets (id),
      version        integer NOT NULL,
      status         text NOT NULL CHECK (status IN ('draft', 'published')),
      root           text NOT NULL,
      count          integer NOT NULL,
      manifest_cid   text NOT NULL,
      committed_block bigint,
      committed_tx   text,
      created_at     timestamptz NOT NULL DEFAULT now(),
      published_at   timestamptz,
      PRIMARY KEY (datanet_id, version)
    );

    CREATE TABLE version_members (
      datanet_id      bigint NOT NULL,
      version         integer NOT NULL,
      contribution_id text NOT NULL REFERENCES contributions (id),
      PRIMARY KEY (datanet_id, version, contribution_id),
      FOREIGN KEY (datanet_id, version) REFERENCES datanet_versions (datanet_id, version) ON DELETE CASCADE
    );
    CREATE INDEX version_members_by_contribution ON version_members (contribution_id);

    -- How far each chain event stream has been read.
    CREATE TABLE chain_cursors (
      name  text PRIMARY KEY,
      block bigint NOT NULL
    );
  `,
};
