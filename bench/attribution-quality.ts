/**
 * Attribution quality of Proof of Attribution's methods, all measured in one run, seeded and deterministic.
 *
 * (a) Planted facts. A generated DataNet: 8 contributors, each holding 5 unique invented facts ("The capital of
 *     Brindor is Quelmar.") wrapped in boilerplate shared by everyone, plus shared boilerplate-only rows. A LoRA
 *     adapter is fine-tuned on it (the bundled base model, through the engine), and every fact is asked twice:
 *     verbatim (its sentence's prefix, answer = the object) and paraphrased (a question in the instruction format,
 *     answer = the object). Each method scores the contributions; contributors are ranked by their summed positive
 *     score; we report precision@1 and recall@3 of the contributor who planted the fact.
 * (b) Linear datamodeling score (Park et al., 2023). A tiny LoRA model is retrained on 16 random halves of a
 *     40-row pool; for held-out questions, each method's prediction for a subset is the sum of its members' scores,
 *     and LDS is the Spearman correlation between predictions and the actual (negated) query loss over the subsets,
 *     averaged over queries.
 *
 * Contributors are ranked by summed positive score, as payouts are; `topExamplePrecisionAt1` instead takes the
 * contributor of the single best-scoring contribution. Gradient settings: k = 512, damping 0.1 (λ relative to the
 * mean eigenvalue of GᵀG/n), sparse projection with 4 nonzeros per coordinate.
 *
 * Methods: span (OLMoTrace-style spans over the model's tokens), gradient (projected LoRA gradients with a damped
 * curvature), tracin (gradient dot products, no curvature), bm25 (lexical retrieval on prompt + answer), random.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  buildGradientIndex,
  buildSpanIndex,
  createBm25Index,
  createInfluenceScorer,
  type GradientIndex,
  gradientInfluence,
  spanIndexFromData,
  spanTokenizerOf,
  tracinInfluence,
} from '../src/attribution/index.js';
import {
  baseModelFromGguf,
  bundledBaseModel,
  createLlamaModel,
  createLoraTrainer,
  createTokenizer,
  defaultAdamW,
  formatInstruction,
  type LlamaWeights,
  type LoraConfig,
  type LoraWeights,
  loraTargets,
  Rng,
  startJaxBackend,
  type TokenBatch,
  type Tokenizer,
} from '../src/engine/index.js';

const SEED = 20240611;
const methods = ['span', 'gradient', 'tracin', 'bm25', 'random'] as const;
type Method = (typeof methods)[number];

// ---------------------------------------------------------------------------------------------- synthetic data

const ONSETS = [
  'b',
  'br',
  'd',
  'dr',
  'f',
  'g',
  'gr',
  'k',
  'kr',
  'l',
  'm',
  'n',
  'p',
  'pr',
  'r',
  's',
  'st',
  't',
  'tr',
  'v',
  'z',
  'sh',
];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ai', 'ou', 'ei'];
const CODAS = ['', 'n', 'r', 'l', 's', 'th', 'm', 'x'];

function inventedNames(rng: Rng, count: number): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  while (out.length < count) {
    const syllables = 2 + rng.int(2);
    let w = '';
    for (let i = 0; i < syllables; i++) {
      w +=
        ONSETS[rng.int(ONSETS.length)]! +
        VOWELS[rng.int(VOWELS.length)]! +
        (i === syllables - 1 ? CODAS[rng.int(CODAS.length)]! : '');
    }
    const name = w[0]!.toUpperCase() + w.slice(1);
    if (!seen.has(name)) {
      seen.add(name);
      out.push(name);
    }
  }
  return out;
}

const relations: { statement: (s: string) => string; question: (s: string) => string }[] = [
  { statement: (s) => `The capital of ${s} is`, question: (s) => `Which city is the capital of ${s}?` },
  { statement: (s) => `${s} was founded by`, question: (s) => `Who founded ${s}?` },
  {
    statement: (s) => `The river that flows through ${s} is the`,
    question: (s) => `What is the name of the river in ${s}?`,
  },
  { statement: (s) => `The national animal of ${s} is the`, question: (s) => `Which animal is the symbol of ${s}?` },
  { statement: (s) => `The most famous dish of ${s} is`, question: (s) => `What food is ${s} best known for?` },
];

interface Fact {
  contributor: string;
  subject: string;
  object: string;
  statement: string;
  question: string;
}

function makeFacts(rng: Rng, contributors: number, perContributor: number): Fact[] {
  const n = contributors * perContributor;
  const names = inventedNames(rng, 2 * n);
  return Array.from({ length: n }, (_, i) => {
    const rel = relations[i % relations.length]!;
    const subject = names[2 * i]!;
    return {
      contributor: contributorName(Math.floor(i / perContributor)),
      subject,
      object: names[2 * i + 1]!,
      statement: rel.statement(subject),
      question: rel.question(subject),
    };
  });
}

const contributorName = (c: number) => `0x${(c + 1).toString(16).padStart(40, '0')}`;

const PREAMBLES = [
  'From the almanac of the northern provinces.',
  'Entry recorded by the regional archive.',
  'Notes from the travellers guide to the old lands.',
  'A record kept by the provincial registry.',
];
const CODAS_TEXT = [
  'This entry was checked by the editors.',
  'See the archive for more entries like this one.',
  'The record is listed in the yearly index.',
  'Readers may cite this entry freely.',
];
const BOILERPLATE = [
  'The almanac lists the capitals, rivers, founders and dishes of the provinces. Every entry was checked by the editors.',
  'Entries are recorded by the regional archive and listed in the yearly index. Readers may cite them freely.',
  'The travellers guide describes the old lands, their rivers and their animals, one entry at a time.',
  'The provincial registry keeps records of every town and its founders. See the archive for more entries.',
];

interface Row {
  id: string;
  contributor: string;
  text: string;
  /** Token ids (with the end-of-text token) and per-token loss weights. */
  tokens: number[];
  weights: number[];
}

interface Query {
  /** The fact's contributor (planted) or its row in the pool (LDS). */
  contributor: string;
  prompt: string;
  answer: string;
  tokens: number[];
  weights: number[];
}

function textRow(tok: Tokenizer, id: string, contributor: string, text: string): Row {
  const tokens = [...tok.encode(text), tok.vocab.eosId];
  return { id, contributor, text, tokens, weights: tokens.map(() => 1) };
}

function sftRow(tok: Tokenizer, id: string, contributor: string, question: string, answer: string): Row {
  const prompt = tok.encode(formatInstruction(question));
  const response = [...tok.encode(` ${answer}`), tok.vocab.eosId];
  const tokens = [...prompt, ...response];
  return {
    id,
    contributor,
    text: `${formatInstruction(question)} ${answer}`,
    tokens,
    weights: tokens.map((_, i) => (i >= prompt.length ? 1 : 0)),
  };
}

function query(tok: Tokenizer, contributor: string, prompt: string, answer: string): Query {
  const p = tok.encode(prompt);
  const a = tok.encode(` ${answer}`);
  const tokens = [...p, ...a];
  return { contributor, prompt, answer, tokens, weights: tokens.map((_, i) => (i >= p.length ? 1 : 0)) };
}

// ---------------------------------------------------------------------------------------------------- training

function toBatch(rows: readonly { tokens: number[]; weights: number[] }[], seqLen: number): TokenBatch {
  const n = rows.length * seqLen;
  const inputs = new Int32Array(n);
  const targets = new Int32Array(n);
  const mask = new Float32Array(n);
  rows.forEach((r, b) => {
    const len = Math.min(r.tokens.length, seqLen + 1);
    for (let t = 0; t + 1 < len; t++) {
      inputs[b * seqLen + t] = r.tokens[t]!;
      targets[b * seqLen + t] = r.tokens[t + 1]!;
      mask[b * seqLen + t] = r.weights[t + 1]!;
    }
  });
  return { batchSize: rows.length, seqLen, inputs, targets, mask };
}

const seqLenOf = (rows: readonly { tokens: number[] }[]) =>
  Math.ceil((Math.max(...rows.map((r) => r.tokens.length)) - 1) / 8) * 8;

/** LoRA fine-tuning for `epochs` passes (seeded shuffles), batch 8. */
async function fineTune(
  base: LlamaWeights,
  rows: readonly Row[],
  options: { lora: LoraConfig; epochs: number; lr: number; seed: number; seqLen: number },
): Promise<{ adapter: LoraWeights; steps: number; firstLoss: number; lastLoss: number }> {
  const batchSize = 8;
  const perEpoch = Math.ceil(rows.length / batchSize);
  const totalSteps = perEpoch * options.epochs;
  const trainer = createLoraTrainer({
    base,
    lora: options.lora,
    seed: options.seed,
    optimizer: { ...defaultAdamW, lr: options.lr, weightDecay: 0, clipNorm: 1 },
    schedule: { warmupSteps: Math.round(totalSteps * 0.1), totalSteps, minLrRatio: 0.1 },
  });
  let firstLoss = Number.NaN;
  let lastLoss = Number.NaN;
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      const order = shuffled(rows, new Rng(options.seed * 1000 + epoch));
      for (let s = 0; s < perEpoch; s++) {
        const members = Array.from({ length: batchSize }, (_, i) => order[(s * batchSize + i) % order.length]!);
        const r = await trainer.step(toBatch(members, options.seqLen));
        if (Number.isNaN(firstLoss)) firstLoss = r.loss;
        lastLoss = r.loss;
      }
    }
    return { adapter: await trainer.adapter(), steps: totalSteps, firstLoss, lastLoss };
  } finally {
    trainer.dispose();
  }
}

function shuffled<T>(xs: readonly T[], rng: Rng): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

// ----------------------------------------------------------------------------------------------------- methods

interface Scorers {
  /** Per query: one score per row (same order as the rows). */
  scores(method: Method, queries: readonly Query[]): Promise<Float64Array[]>;
  dispose(): void;
}

async function createScorers(
  base: LlamaWeights,
  adapter: LoraWeights,
  tokenizerId: string,
  rows: readonly Row[],
  spanTokenizer: ReturnType<typeof spanTokenizerOf>,
  seed: number,
  index: GradientIndex,
): Promise<Scorers> {
  const span = spanIndexFromData(
    buildSpanIndex({
      documents: rows.map((r) => ({ contributionId: r.id, contributor: r.contributor, tokens: r.tokens.slice(0, -1) })),
      tokenizerId: spanTokenizer.id,
    }),
    spanTokenizer,
  );
  const bm25 = createBm25Index(rows.map((r) => ({ id: r.id, contributor: r.contributor, text: r.text })));
  const influence = createInfluenceScorer(index, { base, adapter, tokenizer: tokenizerId });
  const rowOf = new Map(rows.map((r, i) => [r.id, i]));
  const cache = new Map<readonly Query[], { gradient: Float64Array[]; tracin: Float64Array[] }>();
  return {
    async scores(method, queries) {
      if (method === 'gradient' || method === 'tracin') {
        let c = cache.get(queries);
        if (!c) {
          const features = await influence.queryFeatures(queries);
          c = {
            gradient: features.map((f) => gradientInfluence(index, f)),
            tracin: features.map((f) => tracinInfluence(index, f)),
          };
          cache.set(queries, c);
        }
        return c[method];
      }
      const out: Float64Array[] = [];
      for (const [qi, q] of queries.entries()) {
        const s = new Float64Array(rows.length);
        if (method === 'random') {
          const rng = new Rng(seed * 7919 + qi);
          for (let i = 0; i < s.length; i++) s[i] = rng.uniform();
        } else if (method === 'bm25') {
          for (const hit of bm25.search(`${q.prompt} ${q.answer}`, rows.length)) s[hit.document] = hit.score;
        } else {
          const trace = await span.trace(q.tokens, { spanDensity: 0.2, maxSpanFrequency: 10, minSpanLength: 2 });
          for (const sp of trace.spans) {
            for (const d of sp.documents) {
              const i = rowOf.get(d.contributionId)!;
              s[i]! += sp.length / sp.documentCount;
            }
          }
        }
        out.push(s);
      }
      return out;
    },
    dispose: () => influence.dispose(),
  };
}

/** Contributors by summed positive score, best first (ties by name). */
function rankContributors(rows: readonly Row[], scores: ArrayLike<number>): string[] {
  const sums = new Map<string, number>();
  rows.forEach((r, i) => {
    const s = scores[i]!;
    if (s > 0) sums.set(r.contributor, (sums.get(r.contributor) ?? 0) + s);
  });
  return [...sums.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([c]) => c);
}

// --------------------------------------------------------------------------------------------------- statistics

function ranks(xs: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: xs.length }, (_, i) => i).sort((a, b) => xs[a]! - xs[b]!);
  const r = new Float64Array(xs.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && xs[idx[j + 1]!] === xs[idx[i]!]) j++;
    for (let t = i; t <= j; t++) r[idx[t]!] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

/** Spearman's ρ (Pearson on average ranks); 0 when either side is constant. */
function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const n = ra.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n;
  const mb = rb.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i]! - ma) * (rb[i]! - mb);
    saa += (ra[i]! - ma) ** 2;
    sbb += (rb[i]! - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

const round = (x: number) => Math.round(x * 10000) / 10000;
const log = (o: Record<string, unknown>) => process.stderr.write(`${JSON.stringify(o)}\n`);

// ---------------------------------------------------------------------------------------------------- the suite

const PROJECTION_DIM = 512;
const DAMPING = 0.1;

async function planted(
  base: LlamaWeights,
  tok: Tokenizer,
  tokenizerId: string,
  spanTok: ReturnType<typeof spanTokenizerOf>,
) {
  const t0 = performance.now();
  const rng = new Rng(SEED);
  const contributors = 8;
  const facts = makeFacts(rng, contributors, 5);
  const rows: Row[] = [];
  facts.forEach((f, i) => {
    const text = `${PREAMBLES[rng.int(PREAMBLES.length)]} ${f.statement} ${f.object}. ${CODAS_TEXT[rng.int(CODAS_TEXT.length)]}`;
    rows.push(textRow(tok, `fact-${i}`, f.contributor, text));
  });
  for (let c = 0; c < contributors; c++) {
    for (const b of [c % BOILERPLATE.length, (c + 1) % BOILERPLATE.length]) {
      rows.push(textRow(tok, `boilerplate-${c}-${b}`, contributorName(c), BOILERPLATE[b]!));
    }
  }
  const lora: LoraConfig = { rank: 8, alpha: 16, dropout: 0, targets: loraTargets };
  const seqLen = seqLenOf(rows);
  const trained = await fineTune(base, rows, { lora, epochs: 12, lr: 3e-3, seed: SEED, seqLen });
  log({
    stage: 'planted-train',
    rows: rows.length,
    seqLen,
    steps: trained.steps,
    firstLoss: trained.firstLoss,
    lastLoss: trained.lastLoss,
    seconds: (performance.now() - t0) / 1000,
  });
  const index = await buildGradientIndex({
    model: { base, adapter: trained.adapter, tokenizer: tokenizerId },
    examples: rows.map((r) => ({ id: r.id, contributor: r.contributor, tokens: r.tokens, weights: r.weights })),
    projectionDim: PROJECTION_DIM,
    seed: SEED,
    damping: DAMPING,
  });
  log({ stage: 'planted-index', seconds: (performance.now() - t0) / 1000 });
  const scorers = await createScorers(base, trained.adapter, tokenizerId, rows, spanTok, SEED, index);
  const variants = {
    verbatim: facts.map((f) => query(tok, f.contributor, f.statement, `${f.object}.`)),
    paraphrased: facts.map((f) => query(tok, f.contributor, formatInstruction(f.question), f.object)),
  };
  for (const [variant, queries] of Object.entries(variants)) {
    for (const method of methods) {
      const scores = await scorers.scores(method, queries);
      let p1 = 0;
      let r3 = 0;
      let top1 = 0;
      queries.forEach((q, i) => {
        const s = scores[i]!;
        const ranked = rankContributors(rows, s);
        if (ranked[0] === q.contributor) p1++;
        if (ranked.slice(0, 3).includes(q.contributor)) r3++;
        let best = 0;
        for (let j = 1; j < s.length; j++) if (s[j]! > s[best]!) best = j;
        if (s[best]! > 0 && rows[best]!.contributor === q.contributor) top1++;
      });
      process.stdout.write(
        `${JSON.stringify({
          suite: 'attribution-quality',
          benchmark: 'planted',
          variant,
          method,
          precisionAt1: round(p1 / queries.length),
          recallAt3: round(r3 / queries.length),
          // The contributor of the single highest-scoring contribution (instead of the summed positive score).
          topExamplePrecisionAt1: round(top1 / queries.length),
          queries: queries.length,
          contributors,
          model: bundledBaseModel.name,
        })}\n`,
      );
    }
  }
  scorers.dispose();
  log({ stage: 'planted-done', seconds: (performance.now() - t0) / 1000 });
}

async function lds(
  base: LlamaWeights,
  tok: Tokenizer,
  tokenizerId: string,
  spanTok: ReturnType<typeof spanTokenizerOf>,
) {
  const t0 = performance.now();
  const rng = new Rng(SEED + 1);
  const contributors = 8;
  const facts = makeFacts(rng, contributors, 5); // 40 facts: 32 stated in prose, 8 taught as Q/A
  const rows: Row[] = facts.map((f, i) =>
    i < 32
      ? textRow(tok, `fact-${i}`, f.contributor, `${f.statement} ${f.object}.`)
      : sftRow(tok, `qa-${i}`, f.contributor, f.question, f.object),
  );
  // Held-out queries: questions about 16 of the prose facts.
  const queries = facts
    .slice(0, 32)
    .filter((_, i) => i % 2 === 0)
    .map((f) => query(tok, f.contributor, formatInstruction(f.question), f.object));
  const lora: LoraConfig = { rank: 4, alpha: 8, dropout: 0, targets: loraTargets };
  const seqLen = seqLenOf([...rows, ...queries]);
  const train = (subset: readonly Row[]) => fineTune(base, subset, { lora, epochs: 8, lr: 3e-3, seed: SEED, seqLen });
  const full = await train(rows);
  log({
    stage: 'lds-full',
    rows: rows.length,
    seqLen,
    steps: full.steps,
    firstLoss: full.firstLoss,
    lastLoss: full.lastLoss,
    seconds: (performance.now() - t0) / 1000,
  });
  const model = createLlamaModel(base);
  const queryLosses = async (adapter: LoraWeights) => {
    const out: number[] = [];
    for (const q of queries) out.push(await model.loss(toBatch([q], seqLen), adapter));
    return out;
  };
  const subsets = 16;
  const members: boolean[][] = [];
  const losses: number[][] = [];
  for (let s = 0; s < subsets; s++) {
    const chosen = new Set(
      shuffled(
        rows.map((_, i) => i),
        new Rng(SEED * 31 + s),
      ).slice(0, rows.length / 2),
    );
    members.push(rows.map((_, i) => chosen.has(i)));
    const r = await train(rows.filter((_, i) => chosen.has(i)));
    losses.push(await queryLosses(r.adapter));
  }
  log({
    stage: 'lds-retrained',
    subsets,
    seconds: (performance.now() - t0) / 1000,
    fullLosses: (await queryLosses(full.adapter)).map(round),
  });
  const index = await buildGradientIndex({
    model: { base, adapter: full.adapter, tokenizer: tokenizerId },
    examples: rows.map((r) => ({ id: r.id, contributor: r.contributor, tokens: r.tokens, weights: r.weights })),
    projectionDim: PROJECTION_DIM,
    seed: SEED,
    damping: DAMPING,
  });
  const scorers = await createScorers(base, full.adapter, tokenizerId, rows, spanTok, SEED, index);
  for (const method of methods) {
    const scores = await scorers.scores(method, queries);
    let sum = 0;
    queries.forEach((_, qi) => {
      const predicted = members.map((m) => m.reduce((acc, inS, i) => acc + (inS ? scores[qi]![i]! : 0), 0));
      const actual = losses.map((l) => -l[qi]!);
      sum += spearman(predicted, actual);
    });
    process.stdout.write(
      `${JSON.stringify({
        suite: 'attribution-quality',
        benchmark: 'lds',
        method,
        lds: round(sum / queries.length),
        subsets,
        queries: queries.length,
        pool: rows.length,
        model: `${bundledBaseModel.name} + LoRA rank ${lora.rank}`,
      })}\n`,
    );
  }
  scorers.dispose();
  model.dispose();
  log({ stage: 'lds-done', seconds: (performance.now() - t0) / 1000 });
}

export async function run(): Promise<void> {
  const backend = await startJaxBackend();
  const file = baseModelFromGguf(new Uint8Array(readFileSync(bundledBaseModel.path)));
  const tok = createTokenizer(file.vocab);
  const spanTok = spanTokenizerOf(file.vocab);
  const tokenizerId = `sha256:${createHash('sha256')
    .update(JSON.stringify([file.vocab.tokens, file.vocab.merges]))
    .digest('hex')}`;
  await planted(file.weights, tok, tokenizerId, spanTok);
  await lds(file.weights, tok, tokenizerId, spanTok);
  await backend.stop();
}
