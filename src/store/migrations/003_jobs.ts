/** A durable job queue: work that must survive a restart (fine-tunes, epoch closes). */
export default {
  version: 3,
  name: 'jobs',
  sql: `
    CREATE TABLE jobs (
      id           bigserial PRIMARY KEY,
      kind         text NOT NULL,
      payload      jsonb NOT NULL,
      dedupe_key   text UNIQUE,
      status       text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
      attempts     integer NOT NULL DEFAULT 0,
      max_attempts integer NOT NULL DEFAULT 3,
      run_after    timestamptz NOT NULL DEFAULT now(),
      lease_owner  text,
      lease_until  timestamptz,
      progress     jsonb,
      result       jsonb,
      error        jsonb,
      created_at   timestamptz NOT NULL DEFAULT now(),
      updated_at   timestamptz NOT NULL DEFAULT now(),
      started_at   timestamptz,
      finished_at  timestamptz
    );
    CREATE INDEX jobs_ready ON jobs (kind, status, run_after, id);
  `,
};
