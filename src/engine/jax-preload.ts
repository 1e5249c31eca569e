/**
 * Runs before jax-js is evaluated (every engine module that imports jax-js imports this first). jax-js creates
 * its wasm backend — and decides between plain and shared memory with a worker pool — when its module is
 * evaluated, so the Node 20 worker shim must already be in place then; installing it later makes new kernels
 * expect shared memory the backend does not have. The thread count therefore comes from the environment:
 * TRIBUTARY_JAX_THREADS=2 (default 1). This is process-wide state because jax-js's backend is.
 */
import { installWorkerShim } from './jax-threads.js';
import { installIteratorHelpers } from './polyfill.js';

installIteratorHelpers();

const requested = process.env.TRIBUTARY_JAX_THREADS === '2' ? 2 : 1;

/** The thread count jax-js was set up with in this process. */
export const jaxThreads: number = requested;

/** Ends the worker threads (only with 2 threads). */
export const stopJaxWorkers: () => Promise<void> = installWorkerShim(requested);
