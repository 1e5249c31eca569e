export { type BlobStore, createFsBlobStore } from './blobs.js';
export {
  type ChainCursor,
  type ChainCursorBlock,
  type ChainCursorStore,
  chainCursorStore,
  chainCursors,
} from './chain-cursors.js';
export type { Db, Queryable, QueryResult, Row } from './db.js';
export {
  createJobRunner,
  type JobContext,
  type JobEvent,
  type JobHandler,
  type JobRunner,
  type JobRunnerOptions,
} from './job-runner.js';
export { createJobQueue, type Job, type JobQueue, type JobQueueOptions, type JobStatus } from './jobs.js';
export { getMeta, setMeta } from './meta.js';
export { checksum, type Migration, migrate } from './migrate.js';
export { migrations } from './migrations/index.js';
export { type OpenStoreOptions, openStore } from './open.js';
export { openPglite } from './pglite.js';
export { openPostgres, type PostgresOptions, redactUrl } from './postgres.js';
