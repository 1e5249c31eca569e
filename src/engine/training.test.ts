import { grad, numpy as np, tree } from '@jax-js/jax';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchToDevice } from './batch.js';
import {
  decodeLoraCheckpoint,
  decodePretrainCheckpoint,
  encodeLoraCheckpoint,
  encodePretrainCheckpoint,
} from './checkpoint.js';
import { type LoraConfig, loraTargets, validateLlamaConfig, validateLoraConfig } from './config.js';
import { artifactHash } from './hash.js';
import { createLlamaModel } from './inference.js';
import { startJaxBackend } from './jax-backend.js';
import { createLoraTrainer } from './lora-trainer.js';
import { causalLmLoss, oneHot } from './loss.js';
import { baseParamsToDevice, forward, type LoraParams, loraParamsToDevice, ropeTables } from './model.js';
import { defaultAdamW, learningRate } from './optim.js';
import { createPerExampleGradients } from './per-example.js';
import { createPretrainer } from './pretrainer.js';
import { writeSafetensors } from './safetensors.js';
import { randomBatch, tinyConfig } from './test-support/fixtures.js';
import { initLlamaWeights, initLoraWeights, type LoraWeights, namedLoraTensors } from './weights.js';

const cfg = tinyConfig();
const base = initLlamaWeights(cfg, 1);
const lora: LoraConfig = { rank: 4, alpha: 8, dropout: 0, targets: loraTargets };
const schedule = { warmupSteps: 2, totalSteps: 20, minLrRatio: 0.1 };
const B = 3;
const T = 16;

beforeAll(async () => {
  await startJaxBackend();
});

const adapterHash = (w: LoraWeights) => artifactHash(writeSafetensors(namedLoraTensors(w))).sha256;

describe('configuration', () => {
  it('rejects inconsistent shapes and LoRA settings with exact messages', () => {
    expect(() => validateLlamaConfig({ ...cfg, nKvHeads: 3 })).toThrow('nHeads must be a multiple of nKvHeads');
    expect(() => validateLlamaConfig({ ...cfg, dim: 30 })).toThrow('dim must split into heads of even size');
    expect(() => validateLoraConfig({ ...lora, rank: 0 })).toThrow('rank must be a positive integer');
    expect(() => validateLoraConfig({ ...lora, dropout: 1 })).toThrow('dropout must be in [0, 1)');
    expect(() => validateLoraConfig({ ...lora, targets: ['q', 'x' as 'q'] })).toThrow('Unknown LoRA target "x"');
  });

  it('warms up linearly then decays by cosine to the floor', () => {
    const s = { warmupSteps: 10, totalSteps: 110, minLrRatio: 0.1 };
    expect(learningRate(1, s, 0)).toBeCloseTo(0.1);
    expect(learningRate(1, s, 9)).toBeCloseTo(1);
    expect(learningRate(1, s, 60)).toBeCloseTo(0.55);
    expect(learningRate(1, s, 110)).toBeCloseTo(0.1);
  });
});

describe('pretraining', () => {
  it('lowers the loss and resumes from a checkpoint bit-identically', async () => {
    const opts = { config: cfg, optimizer: { ...defaultAdamW, lr: 1e-2 }, schedule };
    const straight = createPretrainer({ ...opts, from: base });
    const losses: number[] = [];
    for (let s = 0; s < 8; s++) losses.push((await straight.step(randomBatch(cfg.vocabSize, B, T, s))).loss);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! - 0.3);

    const first = createPretrainer({ ...opts, from: base });
    for (let s = 0; s < 4; s++) await first.step(randomBatch(cfg.vocabSize, B, T, s));
    const bytes = encodePretrainCheckpoint(await first.state(), { cursor: 4 });
    first.dispose();
    const { state, extra } = decodePretrainCheckpoint(bytes);
    expect(extra).toEqual({ cursor: 4 });
    const resumed = createPretrainer({ ...opts, from: state });
    for (let s = 4; s < 8; s++) await resumed.step(randomBatch(cfg.vocabSize, B, T, s));
    expect(encodePretrainCheckpoint(await resumed.state())).toEqual(encodePretrainCheckpoint(await straight.state()));
    straight.dispose();
    resumed.dispose();
  });
});

describe('LoRA', () => {
  const opts = { base, lora: { ...lora, dropout: 0.1 }, seed: 5, optimizer: { ...defaultAdamW, lr: 1e-2 }, schedule };

  it('starts as the base model (B = 0) and lowers the loss', async () => {
    const model = createLlamaModel(base);
    const ids = Array.from(randomBatch(cfg.vocabSize, 1, 8, 9).inputs);
    const fresh = initLoraWeights(cfg, lora, 5);
    expect(await model.logits(ids, fresh)).toEqual(await model.logits(ids));
    const trainer = createLoraTrainer(opts);
    const losses: number[] = [];
    for (let s = 0; s < 8; s++) losses.push((await trainer.step(randomBatch(cfg.vocabSize, B, T, s % 2))).loss);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! - 0.05);
    const adapter = await trainer.adapter();
    expect(await model.logits(ids, adapter)).not.toEqual(await model.logits(ids));
    trainer.dispose();
    model.dispose();
  });

  it('is deterministic and resumes bit-identically (dropout masks included)', async () => {
    const run = async (from: number, to: number, resume?: Parameters<typeof createLoraTrainer>[0]['resume']) => {
      const t = createLoraTrainer({ ...opts, ...(resume ? { resume } : {}) });
      for (let s = from; s < to; s++) await t.step(randomBatch(cfg.vocabSize, B, T, s));
      return t;
    };
    const a = await run(0, 6);
    const b = await run(0, 6);
    expect(adapterHash(await a.adapter())).toBe(adapterHash(await b.adapter()));
    const half = await run(0, 3);
    const { state } = decodeLoraCheckpoint(encodeLoraCheckpoint(await half.state()), cfg.nLayers);
    const c = await run(3, 6, state);
    expect(adapterHash(await c.adapter())).toBe(adapterHash(await a.adapter()));
    const other = createLoraTrainer({ ...opts, seed: 6 });
    await other.step(randomBatch(cfg.vocabSize, B, T, 0));
    expect(adapterHash(await other.adapter())).not.toBe(adapterHash(await a.adapter()));
    for (const t of [a, b, half, c, other]) t.dispose();
  });

  it('counts only masked tokens (SFT response-only loss)', async () => {
    const model = createLlamaModel(base);
    const batch = randomBatch(cfg.vocabSize, 2, 8, 3);
    const mask = Float32Array.from({ length: 16 }, (_, i) => (i % 8 >= 4 ? 1 : 0));
    const changed = { ...batch, targets: batch.targets.map((t, i) => (mask[i] ? t : (t + 7) % cfg.vocabSize)) };
    expect(await model.loss({ ...changed, mask })).toBeCloseTo(await model.loss({ ...batch, mask }), 6);
    expect(await model.loss(changed)).not.toBeCloseTo(await model.loss(batch), 3);
    model.dispose();
  });

  it("gives each row of a batch its own loss, the same as that row's batch of one", async () => {
    const model = createLlamaModel(base);
    const adapter = initLoraWeights(cfg, lora, 5);
    const batch = randomBatch(cfg.vocabSize, 3, 8, 4);
    // Row 1 counts its last 3 tokens only; row 2 counts none (its loss is 0, as padding's).
    const mask = Float32Array.from({ length: 24 }, (_, i) => (i < 8 ? 1 : i < 16 ? (i % 8 >= 5 ? 1 : 0) : 0));
    const losses = await model.losses({ ...batch, mask }, adapter);
    for (const r of [0, 1]) {
      const row = (a: Int32Array | Float32Array) => a.slice(r * 8, r * 8 + 8);
      const one = { batchSize: 1, seqLen: 8, inputs: row(batch.inputs), targets: row(batch.targets), mask: row(mask) };
      expect(losses[r]).toBeCloseTo(await model.loss(one as typeof batch, adapter), 5);
    }
    expect(losses[2]).toBe(0);
    model.dispose();
  });
});

describe('per-example LoRA gradients', () => {
  it('equal each example’s own gradient from plain autodiff', async () => {
    const adapter = initLoraWeights(cfg, { ...lora, targets: ['q', 'v', 'down'] }, 2, 0.05);
    const batch = randomBatch(cfg.vocabSize, B, 8, 11);
    batch.mask = Float32Array.from({ length: B * 8 }, (_, i) => (i % 8 < 2 ? 0 : 1));
    const engine = createPerExampleGradients(base, adapter);
    const g = await engine.compute(batch);
    const model = createLlamaModel(base);
    const baseParams = baseParamsToDevice(base);
    const scale = adapter.config.alpha / adapter.config.rank;
    for (let i = 0; i < B; i++) {
      const one = {
        batchSize: 1,
        seqLen: 8,
        inputs: batch.inputs.slice(i * 8, i * 8 + 8),
        targets: batch.targets.slice(i * 8, i * 8 + 8),
        mask: batch.mask.slice(i * 8, i * 8 + 8),
      };
      const d = batchToDevice(one);
      const r = ropeTables(cfg, 8);
      const x0 = np.take(baseParams.embed.ref, d.inputs, 0);
      const lossOf = (l: LoraParams) =>
        causalLmLoss(
          forward(cfg, tree.ref(baseParams), l, scale, x0.ref, { cos: r.cos.ref, sin: r.sin.ref }),
          oneHot(d.targets.ref, cfg.vocabSize),
          d.mask.ref,
        );
      const expected = grad(lossOf)(loraParamsToDevice(adapter)) as LoraParams;
      const flatExpected = (tree.leaves(expected) as np.Array[]).flatMap((a) =>
        Array.from(a.dataSync() as Float32Array),
      );
      const ours = engine.flatten(g, i);
      // jax-js flattens {a, b} per target in key order, as `flatten` does for targets in loraTargets order.
      expect(ours.length).toBe(flatExpected.length);
      let maxDiff = 0;
      let maxAbs = 0;
      for (let k = 0; k < ours.length; k++) {
        maxDiff = Math.max(maxDiff, Math.abs(ours[k]! - flatExpected[k]!));
        maxAbs = Math.max(maxAbs, Math.abs(flatExpected[k]!));
      }
      expect(maxAbs).toBeGreaterThan(1e-4);
      expect(maxDiff).toBeLessThan(1e-5 + 1e-4 * maxAbs);
      expect(g.losses[i]).toBeCloseTo(await model.loss(one, adapter), 5);
    }
    engine.dispose();
    model.dispose();
  });
});
