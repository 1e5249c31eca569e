/**
 * OpenLoRA serving (issue 5): N ≥ 1,000 rank-8 LoRA adapters on the bundled base model, every one a real GGUF
 * stored in the node's blob store and registered on a fresh local chain, served through the real service path
 * (`createOpenLora().infer`: registry mirror → scheduler → adapter cache → llama.cpp context), with the service's
 * default settings, as the node uses them.
 *
 * Phases, in order:
 *   sweep   one short request to every registered adapter, one at a time: every adapter is loaded cold by llama.cpp
 *           (cold load = the cache's own measure: blob read + hash check + eviction if full + context with adapter)
 *   switch  requests alternating between a few cached adapters: end-to-end time to first token of a request whose
 *           adapter differs from the previous request's (and, for reference, of a repeat of the same adapter)
 *   mix     rounds interleaved so machine noise hits both alike: a single-adapter stream, then a uniform mix over
 *           100 adapters, then a Zipf mix over all N, each the same requests (prompts, seeds, max tokens) at the
 *           same concurrency; output tokens/s = completion tokens / wall time; TTFT measured at the client
 *   naive   the first NAIVE_ROUNDS rounds of the uniform mix again through the naive path: a fresh llama.cpp context per request (created and
 *           disposed per request, `runtime.generate`), at the same concurrency
 *
 * Memory: rssBytes is the process's peak resident set while serving (sampled after every request). The ratio vs
 * "one merged model per adapter" is (base file + N × adapter file + serving overhead) / (N × merged model), where
 * the serving overhead is that peak RSS less the settled RSS before llama.cpp was started, with the DB open and
 * the registry mirrored (so it counts the base weights a second time, every loaded adapter and context, and the
 * heap the serving path grew), and a merged model is the base file's size (merging a LoRA changes no tensor's
 * shape or type). memoryRatioWholeProcess counts the whole peak RSS (node, PGlite and all) as the overhead.
 *
 * The serving part runs in a child process per allocator setting (see ALLOCATORS): the first is the main line.
 * Prints, per allocator, one JSON line for the uniform mix and one with "mix":"zipf".
 *
 * For exploring: SERVING_ADAPTERS (default 1000) sets N, SERVING_BUDGET_MB the cache's budget (default: the
 * service's), SERVING_ONE_ALLOCATOR=1 skips the glibc-default run.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hex } from 'viem';
import {
  connectChain,
  type Deployment,
  defaultDeployParameters,
  deployProtocol,
  devAccount,
  devRoles,
  startAnvil,
} from '../src/chain/index.js';
import { silentLogger } from '../src/core/index.js';
import {
  adapterToGguf,
  artifactHash,
  baseModelFromGguf,
  bundledBaseModel,
  createLlamaRuntime,
  initLoraWeights,
  loraTargets,
  Rng,
} from '../src/engine/index.js';
import { publishModelOnChain } from '../src/factory/index.js';
import { createModelRegistryMirror, createOpenLora, type InferenceResult } from '../src/openlora/index.js';
import { createFsBlobStore, migrate, migrations, openPglite } from '../src/store/index.js';

const ADAPTERS = Number(process.env.SERVING_ADAPTERS ?? 1000);
const RANK = 8;
/** Adapters in the uniform mix. */
const MIX_ADAPTERS = 100;
/** Requests in flight at once, for the single stream, the mixes and the naive path alike. */
const CONCURRENCY = 4;
const ROUNDS = 6;
/** Rounds of the uniform mix replayed through the naive path. */
const NAIVE_ROUNDS = 2;
const REQUESTS_PER_ROUND = 24;
const MAX_TOKENS = 32;
const SWEEP_MAX_TOKENS = 2;
/** Owners registering in parallel (dev accounts 11..), each sending its own transactions in turn. */
const OWNERS = 8;
const PROMPTS = [
  'river (noun):',
  'run (verb):',
  'dog (noun): a',
  'mountain (noun): a large',
  'happiness (noun):',
  'bright (adjective):',
  'The',
  'house (noun): a building',
];

const progress = (msg: string) =>
  process.stderr.write(`[serving] ${msg} (rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB)\n`);
const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
};
const r1 = (x: number) => Math.round(x * 10) / 10;
const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

interface Req {
  model: string;
  prompt: string;
  seed: number;
}

/** A Zipf(s = 1) sampler over ranks 0..n-1. */
function zipf(n: number, rng: Rng): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += 1 / (i + 1);
    cdf[i] = sum;
  }
  return () => {
    const u = rng.uniform() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Runs `reqs` with `concurrency` workers pulling from one list; returns the wall time in ms. */
async function drive<T>(reqs: T[], concurrency: number, each: (r: T) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < reqs.length) {
        const r = reqs[next++] as T;
        await each(r);
      }
    }),
  );
  return performance.now() - started;
}

interface AdapterInfo {
  name: string;
  sha256: Hex;
  cid: string;
  bytes: number;
}

/** What a serving child needs: the chain the adapters are registered on and the node's blob directory. */
interface Job {
  allocator: keyof typeof ALLOCATORS;
  rpcUrl: string;
  deployment: Deployment;
  blobDir: string;
  baseHash: Hex;
  adapters: AdapterInfo[];
}

/**
 * The serving process runs twice, each time in a fresh child: with glibc's mmap threshold fixed at its default
 * 128 KiB (so the buffers of an evicted context go back to the system when it is disposed), and with glibc's
 * defaults, where the threshold rises after the first large free and evicted contexts' buffers stay in a
 * fragmented heap (the resident set then grows by ~1.5 MB per cold load, whatever the cache's budget).
 */
const ALLOCATORS = {
  'glibc mmap threshold fixed at 128 KiB': { MALLOC_MMAP_THRESHOLD_: '131072' },
  'glibc default': {},
} as const;

type Measured = Awaited<ReturnType<typeof serve>>;

/**
 * The resident set once it has settled: PGlite's start leaves a few hundred MB that V8 hands back to the system
 * a while later, which would otherwise make the baseline before serving too high (and the overhead too low).
 */
async function settledRss(): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 40; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    samples.push(process.memoryUsage().rss);
    const last = samples.slice(-5);
    if (last.length === 5 && Math.max(...last) - Math.min(...last) < 2 ** 20) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return samples.at(-1) as number;
}

async function serve(job: Job) {
  const tmp = mkdtempSync(join(tmpdir(), 'tributary-bench-serving-node-'));
  const clients = await connectChain(job.rpcUrl);
  const db = await openPglite(join(tmp, 'db'));
  await migrate(db, migrations);
  const blobs = createFsBlobStore(job.blobDir);
  const adapters = job.adapters;
  const mirror = createModelRegistryMirror(db, clients, job.deployment);

  // The mirror synced (every registration read into the DB) before the baseline, so the DB's growth is not counted.
  await mirror.sync();
  const rssBeforeRuntime = await settledRss();
  // One thread per context, as the node runs: with two, ggml's spinning threads collapse under any other load.
  const runtime = await createLlamaRuntime({ modelPath: bundledBaseModel.path, threads: 1 });
  // The service with its defaults, as the node creates it.
  const openlora = createOpenLora({
    runtime,
    blobs,
    db,
    mirror,
    base: { name: bundledBaseModel.name, sha256: job.baseHash },
    ...(process.env.SERVING_BUDGET_MB ? { budgetBytes: Number(process.env.SERVING_BUDGET_MB) * 2 ** 20 } : {}),
    log: silentLogger(),
  });
  let peakRss = process.memoryUsage().rss;
  const sampleRss = () => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  };
  try {
    const served = (await openlora.listModels()).filter((m) => m.adapterHash !== null);
    const ours = new Set(adapters.map((a) => a.sha256));
    const adaptersRegistered = served.filter((m) => m.adapterHash && ours.has(m.adapterHash)).length;
    progress(`${adaptersRegistered} adapters registered and listed by the service`);

    /** One request through the service, timed at the client (first streamed text = first token). */
    const infer = async (r: Req, maxTokens: number) => {
      const started = performance.now();
      let first = 0;
      const res: InferenceResult = await openlora.infer({
        model: r.model,
        prompt: r.prompt,
        maxTokens,
        temperature: 0.8,
        seed: r.seed,
        onText: () => {
          if (first === 0) first = performance.now();
        },
      });
      const ended = performance.now();
      sampleRss();
      return { res, ttftMs: (first || ended) - started };
    };

    // Warm the base path (first context, first DB writes) so no phase pays for it.
    for (let i = 0; i < 3; i++) await infer({ model: bundledBaseModel.name, prompt: 'The', seed: i }, 4);

    // Sweep: every adapter once, cold.
    const t = performance.now();
    const coldLoads: number[] = [];
    const coldTtft: number[] = [];
    let sweepErrors = 0;
    for (const [i, a] of adapters.entries()) {
      try {
        const { res, ttftMs } = await infer(
          { model: a.name, prompt: PROMPTS[i % PROMPTS.length] as string, seed: i },
          SWEEP_MAX_TOKENS,
        );
        if (res.coldLoad) {
          coldLoads.push(res.loadMs);
          coldTtft.push(ttftMs);
        }
      } catch (e) {
        sweepErrors++;
        if (sweepErrors <= 3) progress(`sweep: ${a.name} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      if ((i + 1) % 250 === 0) progress(`sweep ${i + 1}/${adapters.length}`);
    }
    const sweepMs = performance.now() - t;
    progress(
      `sweep: ${coldLoads.length} cold loads in ${Math.round(sweepMs)} ms, ${sweepErrors} errors, cache holds ${openlora.cache.list().length} contexts`,
    );

    // Warm switch: a few adapters made resident, then requests that alternate between them.
    const switchSet = adapters.slice(0, 4).map((a) => a.name);
    for (const m of switchSet) await infer({ model: m, prompt: 'The', seed: 0 }, 2);
    const switchTtft: number[] = [];
    const sameTtft: number[] = [];
    for (let i = 0; i < 40; i++) {
      const m = switchSet[i % switchSet.length] as string;
      const a = await infer({ model: m, prompt: PROMPTS[i % PROMPTS.length] as string, seed: i }, 4);
      if (!a.res.coldLoad) switchTtft.push(a.ttftMs);
      const b = await infer({ model: m, prompt: PROMPTS[i % PROMPTS.length] as string, seed: i }, 4);
      if (!b.res.coldLoad) sameTtft.push(b.ttftMs);
    }

    // Throughput: single-adapter stream vs uniform mix over 100 adapters vs Zipf mix over all N, interleaved.
    const rng = new Rng(20_260_605);
    const pickZipf = zipf(adapters.length, rng);
    const single = adapters[0] as AdapterInfo;
    const mixSet = adapters.slice(0, MIX_ADAPTERS);
    const stats = () => ({ tokens: 0, ms: 0, requests: 0, cold: 0, ttft: [] as number[] });
    const acc = { single: stats(), uniform: stats(), zipf: stats() };
    const uniformPlans: Req[][] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const base = Array.from({ length: REQUESTS_PER_ROUND }, (_, i) => ({
        prompt: PROMPTS[(round * REQUESTS_PER_ROUND + i) % PROMPTS.length] as string,
        seed: round * 1000 + i,
      }));
      const plans = {
        single: base.map((b) => ({ ...b, model: single.name })),
        uniform: base.map((b) => ({ ...b, model: (mixSet[rng.int(mixSet.length)] as AdapterInfo).name })),
        zipf: base.map((b) => ({ ...b, model: (adapters[pickZipf()] as AdapterInfo).name })),
      };
      uniformPlans.push(plans.uniform);
      for (const kind of ['single', 'uniform', 'zipf'] as const) {
        const s = acc[kind];
        s.ms += await drive(plans[kind], CONCURRENCY, async (r) => {
          const { res, ttftMs } = await infer(r, MAX_TOKENS);
          s.tokens += res.completionTokens;
          s.requests++;
          if (res.coldLoad) s.cold++;
          s.ttft.push(ttftMs);
        });
      }
      progress(
        `round ${round + 1}/${ROUNDS}: ${(['single', 'uniform', 'zipf'] as const)
          .map((k) => `${k} ${Math.round((acc[k].tokens / acc[k].ms) * 1000)} tok/s`)
          .join(', ')}`,
      );
    }
    const contextsResident = openlora.cache.list().length;
    const cacheUsedBytes = openlora.cache.usedBytes();
    const servingPeakRss = peakRss;

    // Naive: the same uniform requests, each in a fresh context created and disposed for it (not in peakRss).
    const pathOf = new Map(adapters.map((a) => [a.name, blobs.localPath?.(a.cid) as string]));
    const naive = { tokens: 0, ms: 0, requests: 0 };
    for (const plan of uniformPlans.slice(0, NAIVE_ROUNDS)) {
      naive.ms += await drive(plan, CONCURRENCY, async (r) => {
        const g = await runtime.generate({
          prompt: runtime.tokenize(r.prompt),
          maxTokens: MAX_TOKENS,
          temperature: 0.8,
          seed: r.seed,
          adapters: [{ path: pathOf.get(r.model) as string }],
        });
        naive.tokens += g.tokens.length;
        naive.requests++;
      });
    }
    progress(`naive: ${Math.round((naive.tokens / naive.ms) * 1000)} tok/s over ${naive.requests} requests`);
    return {
      adaptersRegistered,
      rssBeforeRuntime,
      peakRss: servingPeakRss,
      coldLoads,
      coldTtft,
      sweepMs,
      sweepErrors,
      switchTtft,
      sameTtft,
      acc,
      naive,
      contextsResident,
      cacheUsedBytes,
      cacheStats: { ...openlora.cache.stats },
    };
  } finally {
    await openlora.close();
    await runtime.dispose();
    await db.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

function child(job: Job): Promise<Measured> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const settings of Object.values(ALLOCATORS)) for (const k of Object.keys(settings)) delete env[k];
  Object.assign(env, ALLOCATORS[job.allocator]);
  return new Promise((resolve, reject) => {
    const c = fork(fileURLToPath(import.meta.url), ['--serving-child'], {
      execArgv: [...process.execArgv, '--expose-gc'],
      env,
      serialization: 'advanced',
    });
    let result: Measured | undefined;
    c.on('message', (m) => {
      result = m as Measured;
    });
    c.on('error', reject);
    c.on('exit', (code) =>
      result !== undefined ? resolve(result) : reject(new Error(`serving child (${job.allocator}) exited ${code}`)),
    );
    c.send(job);
  });
}

export async function run(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'tributary-bench-serving-'));
  const anvil = await startAnvil();
  try {
    const clients = await connectChain(anvil.rpcUrl);
    const deployer = devAccount(devRoles.deployer);
    const deployment = await deployProtocol({
      clients,
      deployer,
      parameters: defaultDeployParameters({ deployer: deployer.address }),
    });
    const blobDir = join(tmp, 'blobs');
    const blobs = createFsBlobStore(blobDir);
    const baseFileBytes = statSync(bundledBaseModel.path).size;
    const baseBytes = new Uint8Array(readFileSync(bundledBaseModel.path));
    const baseHash = artifactHash(baseBytes).sha256;
    const config = baseModelFromGguf(baseBytes).weights.config;

    // N distinct adapters: each its own seed, so its own A and (non-zero) B weights and its own file hash.
    let t = performance.now();
    const adapters: AdapterInfo[] = [];
    for (let i = 0; i < ADAPTERS; i++) {
      const name = `bench-adapter-${i}`;
      const lora = initLoraWeights(
        config,
        { rank: RANK, alpha: 2 * RANK, dropout: 0, targets: [...loraTargets] },
        100_000 + i,
        0.02,
      );
      const bytes = adapterToGguf(lora, { name });
      const cid = await blobs.put(bytes);
      adapters.push({ name, sha256: artifactHash(bytes).sha256, cid, bytes: bytes.length });
      if ((i + 1) % 250 === 0) progress(`wrote ${i + 1}/${ADAPTERS} adapters`);
    }
    const adapterFileBytes = adapters.reduce((s, a) => s + a.bytes, 0) / adapters.length;
    progress(`adapters written in ${Math.round(performance.now() - t)} ms (${adapterFileBytes} bytes each)`);

    // Registered on chain by several owners at once, each sending its transactions in turn.
    t = performance.now();
    const zero = `0x${'00'.repeat(32)}` as Hex;
    await Promise.all(
      Array.from({ length: OWNERS }, async (_, k) => {
        const owner = devAccount(11 + k);
        for (let i = k; i < adapters.length; i += OWNERS) {
          const a = adapters[i] as AdapterInfo;
          await publishModelOnChain(clients, owner, deployment.contracts.ModelRegistry, {
            name: a.name,
            baseModelHash: baseHash,
            adapterHash: a.sha256,
            dataNet: null,
            configHash: zero,
            receiptCid: '',
            priceInPer1k: 10n ** 14n,
            priceOutPer1k: 2n * 10n ** 14n,
          });
        }
      }),
    );
    progress(`registered on chain in ${Math.round(performance.now() - t)} ms`);

    const load = loadavg()[0] ?? 0;
    const runs: [keyof typeof ALLOCATORS, Measured][] = [];
    const allocators = (Object.keys(ALLOCATORS) as (keyof typeof ALLOCATORS)[]).slice(
      0,
      process.env.SERVING_ONE_ALLOCATOR ? 1 : undefined,
    );
    for (const allocator of allocators) {
      progress(`serving, allocator: ${allocator}`);
      runs.push([allocator, await child({ allocator, rpcUrl: anvil.rpcUrl, deployment, blobDir, baseHash, adapters })]);
    }

    const n = adapters.length;
    const tps = (s: { tokens: number; ms: number }) => (s.tokens / s.ms) * 1000;
    const lines = runs.map(([allocator, m]) => {
      const overhead = Math.max(0, m.peakRss - m.rssBeforeRuntime);
      const memoryRatio = (baseFileBytes + n * adapterFileBytes + overhead) / (n * baseFileBytes);
      // The same with the whole process's peak (node, PGlite, everything) as the overhead.
      const wholeProcessRatio = (baseFileBytes + n * adapterFileBytes + m.peakRss) / (n * baseFileBytes);
      const single = tps(m.acc.single);
      const common = {
        allocator,
        rank: RANK,
        adapterFileBytes,
        baseFileBytes,
        mergedModelBytes: baseFileBytes,
        servingOverheadBytes: overhead,
        rssBeforeServingBytes: m.rssBeforeRuntime,
        memoryRatioWholeProcess: r4(wholeProcessRatio),
        contextsResident: m.contextsResident,
        cacheUsedBytes: m.cacheUsedBytes,
        concurrency: CONCURRENCY,
        maxTokens: MAX_TOKENS,
        loadavg1m: r1(load),
      };
      const uniform = {
        suite: 'serving',
        mix: 'uniform',
        adaptersRegistered: m.adaptersRegistered,
        rssBytes: m.peakRss,
        memoryRatioVsMerged: r4(memoryRatio),
        coldLoadMsP50: r1(quantile(m.coldLoads, 0.5)),
        coldLoadMsP99: r1(quantile(m.coldLoads, 0.99)),
        warmSwitchMsP50: r1(quantile(m.switchTtft, 0.5)),
        singleTokensPerSec: r1(single),
        mixTokensPerSec: r1(tps(m.acc.uniform)),
        mixThroughputRatio: r4(tps(m.acc.uniform) / single),
        ttftMsP50: r1(quantile(m.acc.uniform.ttft, 0.5)),
        ttftMsP99: r1(quantile(m.acc.uniform.ttft, 0.99)),
        naiveMixTokensPerSec: r1(tps(m.naive)),
        ...common,
        mixAdapters: MIX_ADAPTERS,
        coldLoads: m.coldLoads.length,
        coldTtftMsP50: r1(quantile(m.coldTtft, 0.5)),
        sweepMs: Math.round(m.sweepMs),
        sweepErrors: m.sweepErrors,
        warmSameAdapterTtftMsP50: r1(quantile(m.sameTtft, 0.5)),
        singleTtftMsP50: r1(quantile(m.acc.single.ttft, 0.5)),
        singleTokensPerRequest: r1(m.acc.single.tokens / m.acc.single.requests),
        mixTokensPerRequest: r1(m.acc.uniform.tokens / m.acc.uniform.requests),
        mixRequests: m.acc.uniform.requests,
        mixColdLoads: m.acc.uniform.cold,
        naiveRequests: m.naive.requests,
        mixVsNaiveRatio: r4(tps(m.acc.uniform) / tps(m.naive)),
        cacheStats: m.cacheStats,
      };
      const zipfLine = {
        suite: 'serving',
        mix: 'zipf',
        zipfS: 1,
        mixAdapters: n,
        mixTokensPerSec: r1(tps(m.acc.zipf)),
        mixThroughputRatio: r4(tps(m.acc.zipf) / single),
        singleTokensPerSec: r1(single),
        ttftMsP50: r1(quantile(m.acc.zipf.ttft, 0.5)),
        ttftMsP99: r1(quantile(m.acc.zipf.ttft, 0.99)),
        mixRequests: m.acc.zipf.requests,
        mixColdLoads: m.acc.zipf.cold,
        adaptersRegistered: m.adaptersRegistered,
        rssBytes: m.peakRss,
        memoryRatioVsMerged: r4(memoryRatio),
        ...common,
      };
      return [uniform, zipfLine];
    });
    for (const pair of lines) for (const l of pair) process.stdout.write(`${JSON.stringify(l)}\n`);
  } finally {
    await anvil.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv.includes('--serving-child')) {
  process.once('message', (job: Job) => {
    serve(job).then(
      (r) => process.send?.(r, () => process.exit(0)),
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
  });
}
