/**
 * Multi-threading for jax-js's wasm backend on Node 20. jax-js starts a Web Worker pool only when
 * `SharedArrayBuffer` and a global `Worker` exist; Node 20 has no global `Worker`, so without this shim it runs
 * on one thread. The shim is a minimal Web-Worker-compatible `Worker` over worker_threads: jax-js builds its
 * worker from a Blob's object URL, so Blob and URL.createObjectURL are wrapped to recover the source text.
 * The pool size comes from `navigator.hardwareConcurrency`, which the shim sets to the thread count asked for.
 */
import { Worker as NodeWorker } from 'node:worker_threads';
import { BaseError } from '../core/index.js';

const PRELUDE =
  'import { parentPort } from "node:worker_threads";\n' +
  'globalThis.self = globalThis;\n' +
  'globalThis.postMessage = (m) => parentPort.postMessage(m);\n' +
  "parentPort.on('message', (data) => { if (self.onmessage) self.onmessage({ data }); });\n";

/** Installs the shim (before jax-js's backend starts) and returns a function that ends the workers. */
export function installWorkerShim(threads: number): () => Promise<void> {
  const g = globalThis as Record<string, unknown>;
  if (threads < 2 || typeof g.Worker !== 'undefined') return async () => {};
  const workers: NodeWorker[] = [];
  const blobSources = new WeakMap<Blob, string>();
  const urlSources = new Map<string, string>();
  const OriginalBlob = globalThis.Blob;
  class CapturingBlob extends OriginalBlob {
    constructor(parts: ConstructorParameters<typeof Blob>[0] = [], options?: ConstructorParameters<typeof Blob>[1]) {
      super(parts, options);
      if (parts.every((p) => typeof p === 'string')) blobSources.set(this, (parts as string[]).join(''));
    }
  }
  g.Blob = CapturingBlob;
  const createObjectURL = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (b: Blob) => {
    const url = createObjectURL(b);
    const source = blobSources.get(b);
    if (source !== undefined) urlSources.set(url, source);
    return url;
  };
  class WebWorkerShim {
    onmessage: ((e: { data: unknown }) => void) | null = null;
    onerror: ((e: { message: string }) => void) | null = null;
    private readonly worker: NodeWorker;
    constructor(url: string | URL) {
      const source = urlSources.get(String(url));
      if (source === undefined)
        throw new BaseError('INTERNAL', 'worker shim: unknown worker URL', { details: { url: String(url) } });
      this.worker = new NodeWorker(new URL(`data:text/javascript,${encodeURIComponent(PRELUDE + source)}`));
      this.worker.on('message', (data) => this.onmessage?.({ data }));
      this.worker.on('error', (e) => this.onerror?.({ message: String(e) }));
      workers.push(this.worker);
    }
    postMessage(m: unknown): void {
      this.worker.postMessage(m);
    }
    terminate(): void {
      void this.worker.terminate();
    }
  }
  g.Worker = WebWorkerShim;
  if (typeof g.navigator === 'undefined') g.navigator = { hardwareConcurrency: threads };
  else Object.defineProperty(g.navigator, 'hardwareConcurrency', { value: threads, configurable: true });
  return async () => {
    await Promise.all(workers.map((w) => w.terminate()));
  };
}
