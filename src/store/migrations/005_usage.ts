/** One record per served request: the metering that payments and attribution attach to. */
export default {
  version: 5,
  name: 'usage',
  sql: `
    CREATE TABLE usage_records (
      id            text PRIMARY KEY,
      seq           bigserial UNIQUE,
      model_id      bigint,
      model_name    text NOT NULL,
      adapter_hash  text,
      input_tokens  integer NOT NULL,
      output_tokens integer NOT NULL,
      latency_ms    integer NOT NULL,
      ttft_ms       integer,
      requester     text,
      status        text NOT NULL CHECK (status IN ('ok', 'error', 'cancelled', 'timeout')),
      error_code    text,
      created_at    timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX usage_by_model ON usage_records (model_name, seq);
  `,
};
