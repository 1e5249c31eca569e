/**
 * A durable job queue on the database. A worker claims a job with a lease (FOR UPDATE SKIP LOCKED, so two
 * workers never claim the same job) and renews it while working; a job whose worker died is claimed again when
 * its lease runs out, and a restarted node takes back its own unfinished jobs at once. Failed attempts are retried
 * with exponential backoff up to a limit; cancelled jobs tell their worker on its next heartbeat.
 */
import { BaseError } from '../core/index.js';
import type { Db, Row } from './db.js';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface Job<P = unknown> {
  id: bigint;
  kind: string;
  payload: P;
  status: JobStatus;
  attempts: number;
  maxAttempts: number;
  progress: unknown;
  result: unknown;
  error: { message: string; code?: string } | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

type JobRow = Row & {
  id: bigint;
  kind: string;
  payload: unknown;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  progress: unknown;
  result: unknown;
  error: Job['error'];
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
};

/** `P` is the caller's word for the payload of the job's kind (what was enqueued): the queue stores JSON unchecked. */
const toJob = <P>(r: JobRow): Job<P> => ({
  id: r.id,
  kind: r.kind,
  payload: r.payload as P,
  status: r.status,
  attempts: r.attempts,
  maxAttempts: r.max_attempts,
  progress: r.progress,
  result: r.result,
  error: r.error,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

export interface JobQueueOptions {
  /** Identifies this worker (a node's id): leases are held in its name. */
  owner: string;
  /** How long a claim lasts without a heartbeat. */
  leaseMs?: number;
}

export type JobQueue = ReturnType<typeof createJobQueue>;

export function createJobQueue(db: Db, options: JobQueueOptions) {
  const leaseMs = options.leaseMs ?? 30_000;
  const lease = `${leaseMs} milliseconds`;

  async function get<P = unknown>(id: bigint): Promise<Job<P>> {
    const { rows } = await db.query<JobRow>('SELECT * FROM jobs WHERE id = $1', [id.toString()]);
    if (!rows[0]) throw new BaseError('NOT_FOUND', `No job ${id}`, { details: { jobId: id.toString() } });
    return toJob<P>(rows[0]);
  }

  return {
    owner: options.owner,
    get,

    /** Adds a job; with a dedupe key, enqueuing the same key again returns the existing job. */
    async enqueue<P>(kind: string, payload: P, o: { maxAttempts?: number; dedupeKey?: string } = {}): Promise<Job<P>> {
      const { rows } = await db.query<JobRow>(
        `INSERT INTO jobs (kind, payload, status, max_attempts, dedupe_key) VALUES ($1, $2::jsonb, 'queued', $3, $4)
         ON CONFLICT (dedupe_key) DO NOTHING RETURNING *`,
        [kind, JSON.stringify(payload), o.maxAttempts ?? 3, o.dedupeKey ?? null],
      );
      if (rows[0]) return toJob<P>(rows[0]);
      const existing = await db.query<JobRow>('SELECT * FROM jobs WHERE dedupe_key = $1', [o.dedupeKey]);
      const row = existing.rows[0];
      if (!row) {
        throw new BaseError('INTERNAL', `A ${kind} job was neither inserted nor found under its dedupe key`, {
          details: { kind, dedupeKey: o.dedupeKey ?? null },
        });
      }
      return toJob<P>(row);
    },

    /** Claims the oldest ready job of these kinds (queued and due, or running with an expired lease). */
    async claim<P = unknown>(kinds: string[]): Promise<Job<P> | undefined> {
      const { rows } = await db.query<JobRow>(
        `UPDATE jobs SET status = 'running', lease_owner = $2, lease_until = now() + $3::interval, attempts = attempts + 1,
           started_at = coalesce(started_at, now()), updated_at = now()
         WHERE id = (
           SELECT id FROM jobs
           WHERE kind = ANY($1::text[]) AND ((status = 'queued' AND run_after <= now()) OR (status = 'running' AND lease_until < now()))
           ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
         RETURNING *`,
        [kinds, options.owner, lease],
      );
      return rows[0] ? toJob<P>(rows[0]) : undefined;
    },

    /** Renews the lease and records progress; false if the job is no longer ours (cancelled or taken over). */
    async heartbeat(id: bigint, progress?: unknown): Promise<boolean> {
      const { rows } = await db.query(
        `UPDATE jobs SET lease_until = now() + $3::interval, updated_at = now(), progress = coalesce($4::jsonb, progress)
         WHERE id = $1 AND status = 'running' AND lease_owner = $2 RETURNING id`,
        [id.toString(), options.owner, lease, progress === undefined ? null : JSON.stringify(progress)],
      );
      return rows.length > 0;
    },

    async complete(id: bigint, result: unknown): Promise<void> {
      await db.query(
        `UPDATE jobs SET status = 'succeeded', result = $3::jsonb, lease_owner = NULL, lease_until = NULL, finished_at = now(), updated_at = now()
         WHERE id = $1 AND status = 'running' AND lease_owner = $2`,
        [id.toString(), options.owner, JSON.stringify(result ?? null)],
      );
    },

    /** Records a failed attempt: back to the queue after a backoff, or failed for good after the last attempt. */
    async fail(id: bigint, error: { message: string; code?: string }, o: { retry?: boolean } = {}): Promise<JobStatus> {
      const { rows } = await db.query<{ status: JobStatus }>(
        `UPDATE jobs SET
           status = CASE WHEN $3 AND attempts < max_attempts THEN 'queued' ELSE 'failed' END,
           run_after = now() + (least(power(2, attempts), 64) || ' seconds')::interval,
           error = $4::jsonb, lease_owner = NULL, lease_until = NULL, updated_at = now(),
           finished_at = CASE WHEN $3 AND attempts < max_attempts THEN NULL ELSE now() END
         WHERE id = $1 AND status = 'running' AND lease_owner = $2 RETURNING status`,
        [id.toString(), options.owner, o.retry !== false, JSON.stringify(error)],
      );
      return rows[0]?.status ?? 'failed';
    },

    /** Cancels a queued or running job; its worker learns it on the next heartbeat. */
    async cancel(id: bigint): Promise<Job> {
      const job = await get(id);
      if (job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled') {
        throw new BaseError('CONFLICT', `Job ${id} already ended (${job.status})`, {
          details: { jobId: id.toString(), status: job.status },
        });
      }
      await db.query(
        `UPDATE jobs SET status = 'cancelled', lease_owner = NULL, lease_until = NULL, finished_at = now(), updated_at = now() WHERE id = $1`,
        [id.toString()],
      );
      return get(id);
    },

    /** After a restart: this owner's running jobs go back to the queue now rather than when their leases expire. */
    async recoverOwn(): Promise<number> {
      const { rowCount } = await db.query(
        `UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_until = NULL, run_after = now(), updated_at = now()
         WHERE status = 'running' AND lease_owner = $1`,
        [options.owner],
      );
      return rowCount;
    },

    async list<P = unknown>(o: { kind?: string; status?: JobStatus; limit?: number } = {}): Promise<Job<P>[]> {
      const { rows } = await db.query<JobRow>(
        `SELECT * FROM jobs WHERE ($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR status = $2) ORDER BY id DESC LIMIT $3`,
        [o.kind ?? null, o.status ?? null, o.limit ?? 100],
      );
      return rows.map((r) => toJob<P>(r));
    },
  };
}
