/**
 * Starts jax-js's wasm backend. jax-js keeps one global backend per process and fixes its thread count when it
 * is first imported (see jax-preload.ts), so this checks the request against that and caches the start.
 */
import './jax-preload.js';
import { init } from '@jax-js/jax';
import { BaseError } from '../core/index.js';
import { jaxThreads, stopJaxWorkers } from './jax-preload.js';

export interface JaxBackend {
  threads: number;
  /** Ends the worker threads (with 2 threads they keep the process alive); the backend is unusable after. */
  stop(): Promise<void>;
}

let started: Promise<JaxBackend> | undefined;

/** Threads are 1 or 2 (this project's machines have two cores); 2 needs TRIBUTARY_JAX_THREADS=2 at startup. */
export function startJaxBackend(options: { threads?: number } = {}): Promise<JaxBackend> {
  const threads = options.threads ?? jaxThreads;
  if (threads !== 1 && threads !== 2) {
    throw new BaseError('INVALID_ARGUMENT', 'threads must be 1 or 2', {
      details: { field: 'threads', value: threads },
    });
  }
  if (threads !== jaxThreads) {
    throw new BaseError(
      'CONFIG_INVALID',
      `jax-js runs on ${jaxThreads} thread(s) in this process; set TRIBUTARY_JAX_THREADS=${threads} before it starts`,
      { details: { field: 'threads', requested: threads, active: jaxThreads } },
    );
  }
  started ??= (async () => {
    await init('wasm');
    return { threads, stop: stopJaxWorkers };
  })();
  return started;
}
