/**
 * Payable inference: payment channels (mirrored from InferenceEscrow, plus what this node charged, reserved and
 * holds vouchers for), node-signed receipts, and epochs of cumulative payouts.
 */
export default {
  version: 6,
  name: 'settlement',
  sql: `
    CREATE TABLE channels (
      id                bigint PRIMARY KEY,
      user_address      text NOT NULL,
      node              text NOT NULL,
      deposit           numeric(78, 0) NOT NULL,
      expires_at        bigint NOT NULL,
      closed            boolean NOT NULL DEFAULT false,
      redeemed          numeric(78, 0) NOT NULL DEFAULT 0,
      charged           numeric(78, 0) NOT NULL DEFAULT 0,
      reserved          numeric(78, 0) NOT NULL DEFAULT 0,
      voucher_amount    numeric(78, 0) NOT NULL DEFAULT 0,
      voucher_signature text,
      CHECK (charged + reserved <= deposit),
      CHECK (voucher_amount <= deposit)
    );

    CREATE TABLE receipts (
      id               text PRIMARY KEY,
      seq              bigserial UNIQUE,
      request_id       text NOT NULL UNIQUE,
      request_hash     text NOT NULL,
      model_id         bigint,
      model_name       text NOT NULL,
      model_owner      text,
      adapter_hash     text,
      datanet_id       bigint,
      datanet_version  integer,
      datanet_root     text,
      datanet_treasury text,
      input_tokens     integer NOT NULL,
      output_tokens    integer NOT NULL,
      fee              numeric(78, 0) NOT NULL,
      fee_breakdown    jsonb NOT NULL,
      attribution      jsonb,
      attribution_hash text NOT NULL,
      output_hash      text NOT NULL,
      channel_id       bigint NOT NULL,
      charged_after    numeric(78, 0) NOT NULL,
      node             text NOT NULL,
      signature        text NOT NULL,
      epoch            integer,
      created_at       timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX receipts_by_epoch ON receipts (epoch, seq);
    CREATE INDEX receipts_by_channel ON receipts (channel_id, seq);

    CREATE TABLE epochs (
      epoch            integer PRIMARY KEY,
      status           text NOT NULL CHECK (status IN ('computed', 'redeemed', 'posted', 'final')),
      last_seq         bigint NOT NULL,
      receipts         integer NOT NULL,
      fees             numeric(78, 0) NOT NULL,
      by_role          jsonb NOT NULL,
      receipts_root    text NOT NULL,
      receipts_cid     text NOT NULL,
      payouts_cid      text NOT NULL,
      payout_root      text NOT NULL,
      cumulative_total numeric(78, 0) NOT NULL,
      post_tx          text,
      post_gas         bigint,
      created_at       timestamptz NOT NULL DEFAULT now(),
      posted_at        timestamptz
    );

    CREATE TABLE epoch_payouts (
      epoch      integer NOT NULL REFERENCES epochs (epoch),
      account    text NOT NULL,
      amount     numeric(78, 0) NOT NULL,
      cumulative numeric(78, 0) NOT NULL,
      PRIMARY KEY (epoch, account)
    );
  `,
};
