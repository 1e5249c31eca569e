/**
 * Span index (Proof of Attribution): SA-IS build throughput against a naive prefix-doubling build of the same
 * corpus in the same run, bytes per token on disk, peak RSS, n-gram count latency and OLMoTrace-style trace
 * latency, at 10 M and 100 M tokens of text-like data (Zipfian words, recurring phrases, boilerplate, quotes and
 * duplicate documents; see syntheticCorpus).
 *
 * Each phase runs in its own child process so that peak RSS belongs to one phase and the query phase starts
 * from a cold, lazily verified load of the index written to disk:
 *   build  generate corpus → buildSpanIndex (median of repeats) → writeSpanIndex → sample queries
 *   naive  generate the same corpus → prefix doubling, and check its suffix array equals the one on disk
 *   query  openSpanIndex → load (read + sha-256) → count and trace latencies
 * Prints one JSON line per size; extra fields give ranges and context (load average, naive size, sorter).
 */
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildSpanIndex,
  concatDocuments,
  createRng,
  openSpanIndex,
  type SpanDocument,
  type SpanTokenizer,
  sortingText,
  spanIndexFiles,
  suffixArrayDoubling,
  syntheticCorpus,
  writeSpanIndex,
} from '../src/attribution/index.js';

const SIZES = [10_000_000, 100_000_000];
const SEED = 20_260_601;
const COUNT_QUERIES = 2000;
const TRACE_OUTPUTS = 30;
const TRACE_TOKENS = 450;
const tokenizer: SpanTokenizer = {
  id: 'synthetic-zipf-v1',
  encode: () => {
    throw new Error('the bench queries token ids');
  },
};

type Job =
  | { kind: 'build'; tokens: number; dir: string; reps: number }
  | { kind: 'naive'; tokens: number; dir: string }
  | { kind: 'query'; dir: string };

interface Queries {
  counts: number[][];
  traces: number[][];
}

const peakRss = () => process.resourceUsage().maxRSS * 1024;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))]!;
const round = (x: number, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;

function corpusDocuments(tokens: number): { docs: SpanDocument[]; all: Uint16Array; starts: Uint32Array } {
  const c = syntheticCorpus({ tokens, seed: SEED });
  const docs: SpanDocument[] = [];
  for (let d = 0; d + 1 < c.starts.length; d++) {
    docs.push({
      contributionId: `0x${createHash('sha256').update(`contribution ${d}`).digest('hex')}`,
      contributor: `0x${createHash('sha256')
        .update(`contributor ${(d * 7919) % 500}`)
        .digest('hex')
        .slice(0, 40)}`,
      tokens: c.tokens.subarray(c.starts[d]!, c.starts[d + 1]!),
    });
  }
  return { docs, all: c.tokens, starts: c.starts };
}

/**
 * Count queries: half are n-grams (1–8 tokens) taken from the corpus, half are n-grams of tokens drawn from its
 * unigram distribution (mostly absent beyond 2–3 tokens). Trace outputs: 450 tokens alternating passages copied
 * from random documents (8–64 tokens, as a model regurgitating training text) and novel unigram-sampled text.
 */
function sampleQueries(all: Uint16Array, starts: Uint32Array): Queries {
  const rng = createRng(SEED + 1);
  const int = (n: number) => Math.floor(rng() * n);
  const unigram = () => all[int(all.length)]!;
  const copied = (len: number) => {
    const d = int(starts.length - 1);
    const from = starts[d]!;
    const docLen = starts[d + 1]! - from;
    const start = from + int(Math.max(1, docLen - len));
    return Array.from(all.subarray(start, Math.min(start + len, from + docLen)));
  };
  const counts = Array.from({ length: COUNT_QUERIES }, (_, i) => {
    const n = 1 + int(8);
    return i % 2 === 0 ? copied(n) : Array.from({ length: n }, unigram);
  });
  const traces = Array.from({ length: TRACE_OUTPUTS + 3 }, () => {
    const out: number[] = [];
    while (out.length < TRACE_TOKENS) {
      out.push(...copied(8 + int(57)));
      const novel = 5 + int(40);
      for (let k = 0; k < novel; k++) out.push(unigram());
    }
    return out.slice(0, TRACE_TOKENS);
  });
  return { counts, traces };
}

async function buildPhase(job: Extract<Job, { kind: 'build' }>) {
  const { docs, all, starts } = corpusDocuments(job.tokens);
  const ms: number[] = [];
  let data: ReturnType<typeof buildSpanIndex> | undefined;
  for (let r = 0; r < job.reps; r++) {
    data = undefined;
    // Drop the previous build (and its WebAssembly memory) so peak RSS reflects one build, as in production.
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = performance.now();
    data = buildSpanIndex({ documents: docs, tokenizerId: tokenizer.id });
    ms.push(performance.now() - t0);
  }
  const t0 = performance.now();
  const written = await writeSpanIndex(data!, join(job.dir, 'index'));
  const writeMs = performance.now() - t0;
  writeFileSync(join(job.dir, 'queries.json'), JSON.stringify(sampleQueries(all, starts)));
  return { ms, writeMs, bytes: written.bytes, documents: docs.length, peakRssBytes: peakRss() };
}

async function naivePhase(job: Extract<Job, { kind: 'naive' }>) {
  const { docs } = corpusDocuments(job.tokens);
  // The same input the SA-IS build sorts: tokens + 1, a unique separator per document, sentinel 0.
  const stream = concatDocuments(docs);
  const { text, alphabet } = sortingText(stream);
  const t0 = performance.now();
  const sa = suffixArrayDoubling(text, alphabet);
  const ms = performance.now() - t0;
  const file = readFileSync(join(job.dir, 'index', spanIndexFiles.sa));
  const onDisk = new Uint32Array(file.buffer, file.byteOffset, file.byteLength / 4);
  const mine = new Uint32Array(sa.buffer, 4, onDisk.length);
  let same = onDisk.length === stream.tokenCount;
  for (let i = 0; same && i < onDisk.length; i++) same = onDisk[i] === mine[i];
  return { ms, same, peakRssBytes: peakRss() };
}

async function queryPhase(job: Extract<Job, { kind: 'query' }>) {
  const queries = JSON.parse(readFileSync(join(job.dir, 'queries.json'), 'utf8')) as Queries;
  const index = await openSpanIndex({ dir: join(job.dir, 'index'), tokenizer });
  let t0 = performance.now();
  await index.load();
  const loadMs = performance.now() - t0;
  for (const q of queries.counts.slice(0, 200)) await index.count(q);
  const countUs: number[] = [];
  let found = 0;
  for (const q of queries.counts) {
    const t = process.hrtime.bigint();
    const c = await index.count(q);
    countUs.push(Number(process.hrtime.bigint() - t) / 1e3);
    if (c > 0) found++;
  }
  const traceMs: number[] = [];
  let spans = 0;
  for (const [i, q] of queries.traces.entries()) {
    t0 = performance.now();
    const trace = await index.trace(q);
    if (i >= 3) {
      traceMs.push(performance.now() - t0);
      spans += trace.spans.length;
    }
  }
  return {
    loadMs,
    countUs,
    traceMs,
    countHitRate: found / queries.counts.length,
    spansPerTrace: spans / TRACE_OUTPUTS,
    peakRssBytes: peakRss(),
  };
}

function child<T>(job: Job): Promise<T> {
  return new Promise((resolve, reject) => {
    const c = fork(fileURLToPath(import.meta.url), ['--span-index-child', JSON.stringify(job)], {
      execArgv: [...process.execArgv, '--max-old-space-size=8192', '--expose-gc'],
    });
    let result: T | undefined;
    c.on('message', (m) => {
      result = m as T;
    });
    c.on('error', reject);
    c.on('exit', (code) =>
      result !== undefined ? resolve(result) : reject(new Error(`span-index ${job.kind} child exited ${code}`)),
    );
  });
}

export async function run(): Promise<void> {
  for (const tokens of SIZES) {
    const dir = mkdtempSync(join(tmpdir(), 'span-index-bench-'));
    try {
      const load = loadavg()[0]!;
      const build = await child<Awaited<ReturnType<typeof buildPhase>>>({
        kind: 'build',
        tokens,
        dir,
        reps: tokens <= 10_000_000 ? 3 : 2,
      });
      const naive = await child<Awaited<ReturnType<typeof naivePhase>>>({ kind: 'naive', tokens, dir });
      const query = await child<Awaited<ReturnType<typeof queryPhase>>>({ kind: 'query', dir });
      const rates = build.ms.map((ms) => tokens / (ms / 1e3));
      console.log(
        JSON.stringify({
          suite: 'span-index',
          tokens,
          buildTokensPerSec: round(tokens / (median(build.ms) / 1e3)),
          naiveBuildTokensPerSec: round(tokens / (naive.ms / 1e3)),
          bytesPerToken: round(build.bytes / tokens, 3),
          peakRssBytes: build.peakRssBytes,
          countUsP50: round(percentile(query.countUs, 0.5), 1),
          countUsP99: round(percentile(query.countUs, 0.99), 1),
          traceMsP50: round(percentile(query.traceMs, 0.5), 1),
          traceMsP99: round(percentile(query.traceMs, 0.99), 1),
          buildTokensPerSecRange: [round(Math.min(...rates)), round(Math.max(...rates))],
          naiveTokens: tokens,
          naiveMatchesSais: naive.same,
          naivePeakRssBytes: naive.peakRssBytes,
          documents: build.documents,
          writeMs: round(build.writeMs),
          loadVerifyMs: round(query.loadMs),
          queryPeakRssBytes: query.peakRssBytes,
          countHitRate: round(query.countHitRate, 3),
          spansPerTrace: round(query.spansPerTrace, 1),
          loadAverage: round(load, 2),
        }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

const childAt = process.argv.indexOf('--span-index-child');
if (childAt >= 0) {
  const job = JSON.parse(process.argv[childAt + 1]!) as Job;
  const phase = job.kind === 'build' ? buildPhase(job) : job.kind === 'naive' ? naivePhase(job) : queryPhase(job);
  phase.then(
    (r) => process.send?.(r, () => process.exit(0)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
