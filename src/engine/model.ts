/**
 * The llama decoder on jax-js: RMSNorm, RoPE, grouped-query attention, SwiGLU MLP, optional LoRA on any
 * projection. Conventions are chosen so weights export to llama.cpp without permutation:
 * - RoPE rotates adjacent pairs (x[2i], x[2i+1]) with theta_i = pos · base^(-2i/headDim), llama.cpp's
 *   ROPE_TYPE_NORM used for `llama`;
 * - query head h reads kv head floor(h / (nHeads / nKvHeads));
 * - q/k/v biases when the model has them (qwen2), added before RoPE;
 * - LoRA: y = x W + (alpha / rank) · (x A) B.
 *
 * jax-js ownership: every use of an array consumes one reference; `.ref` keeps one. Functions here consume
 * their arguments; callers pass `tree.ref(x)` for what they keep.
 */
import './jax-preload.js';
import { nn, numpy as np, random } from '@jax-js/jax';
import { at, dims } from './checked.js';
import { headDim, type LlamaConfig, type LoraTarget, loraTargets } from './config.js';
import { causalLmLossSurrogate, oneHot, type SurrogateLoss } from './loss.js';
import type { LayerWeights, LlamaWeights, LoraWeights, Tensor } from './weights.js';

export type LayerParams = {
  attnNorm: np.Array;
  q: np.Array;
  k: np.Array;
  v: np.Array;
  o: np.Array;
  ffnNorm: np.Array;
  gate: np.Array;
  up: np.Array;
  down: np.Array;
  /** q, k, v biases (qwen2), or `[]` (a list keeps the tree shape static). */
  bias: np.Array[];
};

// jax-js trees need type aliases (interfaces have no index signature).
/** Device-side model weights; `output` is `[]` when tied (a list keeps the tree shape static). */
export type BaseParams = {
  embed: np.Array;
  layers: LayerParams[];
  finalNorm: np.Array;
  output: np.Array[];
};

export type LoraPair = {
  a: np.Array;
  b: np.Array;
};

export type LoraParams = {
  layers: Partial<Record<LoraTarget, LoraPair>>[];
};

/** Per-layer, per-target PRNG keys for LoRA dropout; `rate` is the drop probability. */
export type LoraDropout = {
  rate: number;
  keys: Partial<Record<LoraTarget, np.Array>>[];
};

export function toDevice(t: Tensor): np.Array {
  return np.array(t.data).reshape(t.shape);
}

/**
 * Reads an array back to the host (keeps the array: it reads through a new reference). Asynchronous because
 * with a worker pool jax-js refuses synchronous reads of results still being computed.
 */
export async function toHost(a: np.Array): Promise<Tensor> {
  return { shape: [...a.shape], data: await hostFloats(a.ref) };
}

/** An array's values as float32 on the host (consumes the array). */
export async function hostFloats(a: np.Array): Promise<Float32Array> {
  return Float32Array.from(await a.data());
}

/** The first value of an array, e.g. a scalar loss (consumes the array). */
export async function hostScalar(a: np.Array): Promise<number> {
  return at(await a.data(), 0);
}

export function baseParamsToDevice(w: LlamaWeights): BaseParams {
  const layer = (l: LayerWeights): LayerParams => ({
    attnNorm: toDevice(l.attnNorm),
    q: toDevice(l.q),
    k: toDevice(l.k),
    v: toDevice(l.v),
    o: toDevice(l.o),
    ffnNorm: toDevice(l.ffnNorm),
    gate: toDevice(l.gate),
    up: toDevice(l.up),
    down: toDevice(l.down),
    bias: l.qBias && l.kBias && l.vBias ? [toDevice(l.qBias), toDevice(l.kBias), toDevice(l.vBias)] : [],
  });
  return {
    embed: toDevice(w.embed),
    layers: w.layers.map(layer),
    finalNorm: toDevice(w.finalNorm),
    output: w.output ? [toDevice(w.output)] : [],
  };
}

export async function baseParamsToHost(config: LlamaConfig, p: BaseParams): Promise<LlamaWeights> {
  const layers: LayerWeights[] = [];
  for (const l of p.layers) {
    const layer: LayerWeights = {
      attnNorm: await toHost(l.attnNorm),
      q: await toHost(l.q),
      k: await toHost(l.k),
      v: await toHost(l.v),
      o: await toHost(l.o),
      ffnNorm: await toHost(l.ffnNorm),
      gate: await toHost(l.gate),
      up: await toHost(l.up),
      down: await toHost(l.down),
    };
    const [qBias, kBias, vBias] = l.bias;
    if (qBias && kBias && vBias) {
      Object.assign(layer, { qBias: await toHost(qBias), kBias: await toHost(kBias), vBias: await toHost(vBias) });
    }
    layers.push(layer);
  }
  const w: LlamaWeights = { config, embed: await toHost(p.embed), layers, finalNorm: await toHost(p.finalNorm) };
  const out = p.output[0];
  if (out) w.output = await toHost(out);
  return w;
}

export function loraParamsToDevice(w: LoraWeights): LoraParams {
  return {
    layers: w.layers.map((rec) => {
      const out: Partial<Record<LoraTarget, LoraPair>> = {};
      for (const t of loraTargets) {
        const p = rec[t];
        if (p) out[t] = { a: toDevice(p.a), b: toDevice(p.b) };
      }
      return out;
    }),
  };
}

export async function loraParamsToHost(config: LoraWeights['config'], p: LoraParams): Promise<LoraWeights> {
  const layers: LoraWeights['layers'] = [];
  for (const rec of p.layers) {
    const out: LoraWeights['layers'][number] = {};
    for (const t of loraTargets) {
      const pair = rec[t];
      if (pair) out[t] = { a: await toHost(pair.a), b: await toHost(pair.b) };
    }
    layers.push(out);
  }
  return { config, layers };
}

/** cos and signed-sin tables `[T, headDim]` for adjacent-pair rotation, positions offset..offset+T-1. */
export function ropeTables(cfg: LlamaConfig, T: number, offset = 0): { cos: np.Array; sin: np.Array } {
  const hd = headDim(cfg);
  const cos = new Float32Array(T * hd);
  const sin = new Float32Array(T * hd);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < hd / 2; i++) {
      const theta = (t + offset) * cfg.ropeTheta ** ((-2 * i) / hd);
      const c = Math.cos(theta);
      const s = Math.sin(theta);
      cos[t * hd + 2 * i] = c;
      cos[t * hd + 2 * i + 1] = c;
      sin[t * hd + 2 * i] = -s; // out[2i]   = x[2i]·c − x[2i+1]·s
      sin[t * hd + 2 * i + 1] = s; // out[2i+1] = x[2i+1]·c + x[2i]·s
    }
  }
  return { cos: np.array(cos).reshape([T, hd]), sin: np.array(sin).reshape([T, hd]) };
}

function rmsNorm(x: np.Array, w: np.Array, eps: number): np.Array {
  const ms = np.mean(np.square(x.ref), -1, { keepdims: true });
  return x.div(np.sqrt(ms.add(eps))).mul(w);
}

function linear(x: np.Array, w: np.Array, lora: LoraPair | undefined, scale: number, drop?: DropSite): np.Array {
  if (!lora) return np.matmul(x, w);
  const base = np.matmul(x.ref, w);
  let xl = x;
  if (drop) {
    const keep = random.bernoulli(drop.key, 1 - drop.rate, xl.shape).astype(np.float32);
    xl = xl.mul(keep).mul(1 / (1 - drop.rate));
  }
  const delta = np.matmul(np.matmul(xl, lora.a), lora.b);
  return base.add(delta.mul(scale));
}

interface DropSite {
  key: np.Array;
  rate: number;
}

/** x `[B, T, H, hd]` rotated by tables `[T, hd]` (consumed). */
function rope(x: np.Array, cos: np.Array, sin: np.Array): np.Array {
  const [B, T, H, hd] = dims(x.shape, 4);
  const swapped = np.flip(x.ref.reshape([B, T, H, hd / 2, 2]), -1).reshape([B, T, H, hd]);
  return x.mul(cos.reshape([1, T, 1, hd])).add(swapped.mul(sin.reshape([1, T, 1, hd])));
}

/**
 * Logits `[B, T, vocab]` for embedded inputs `x` `[B, T, dim]` (the embedding lookup happens outside, because
 * a gather cannot run under jit). Consumes every argument.
 */
export function forward(
  cfg: LlamaConfig,
  base: BaseParams,
  lora: LoraParams | null,
  loraScale: number,
  x: np.Array,
  tables: { cos: np.Array; sin: np.Array },
  dropout?: LoraDropout,
): np.Array {
  const hd = headDim(cfg);
  const [B, T] = dims(x.shape, 3);
  const { cos, sin } = tables;
  let h = x;
  const tied = base.output.length === 0;
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = at(base.layers, l);
    const lr = lora?.layers[l];
    const site = (t: LoraTarget): DropSite | undefined => {
      const key = dropout?.keys[l]?.[t];
      return key && dropout ? { key, rate: dropout.rate } : undefined;
    };
    const lin = (t: LoraTarget, input: np.Array) => linear(input, p[t], lr?.[t], loraScale, site(t));
    const xn = rmsNorm(h.ref, p.attnNorm, cfg.normEps);
    const [bq, bk, bv] = p.bias;
    const biased = (y: np.Array, b: np.Array | undefined) => (b ? y.add(b) : y);
    const q = biased(lin('q', xn.ref), bq).reshape([B, T, cfg.nHeads, hd]);
    const k = biased(lin('k', xn.ref), bk).reshape([B, T, cfg.nKvHeads, hd]);
    const v = biased(lin('v', xn), bv).reshape([B, T, cfg.nKvHeads, hd]);
    const att = nn
      .dotProductAttention(rope(q, cos.ref, sin.ref), rope(k, cos.ref, sin.ref), v, { isCausal: true })
      .reshape([B, T, cfg.nHeads * hd]);
    h = h.add(lin('o', att));
    const hn = rmsNorm(h.ref, p.ffnNorm, cfg.normEps);
    const g = lin('gate', hn.ref);
    const u = lin('up', hn);
    h = h.add(lin('down', nn.silu(g).mul(u)));
  }
  cos.dispose();
  sin.dispose();
  const hf = rmsNorm(h, base.finalNorm, cfg.normEps);
  if (tied) return np.matmul(hf, base.embed.transpose());
  base.embed.dispose();
  return np.matmul(hf, at(base.output, 0));
}

/** What a loss needs besides the model and its embedded inputs: `[B, T]` targets and mask, and rope tables. */
export type LossInputs = { targets: np.Array; mask: np.Array; cos: np.Array; sin: np.Array };

/**
 * The causal-LM loss of the model on embedded inputs `x0`, through the surrogate that makes its gradient fast
 * (see causalLmLossSurrogate). Consumes every argument.
 */
export function forwardLoss(
  cfg: LlamaConfig,
  base: BaseParams,
  lora: LoraParams | null,
  loraScale: number,
  x0: np.Array,
  inputs: LossInputs,
  options: { dropout?: LoraDropout | undefined; perExample?: boolean } = {},
): SurrogateLoss {
  const logits = forward(cfg, base, lora, loraScale, x0, { cos: inputs.cos, sin: inputs.sin }, options.dropout);
  return causalLmLossSurrogate(logits, oneHot(inputs.targets, cfg.vocabSize), inputs.mask, options.perExample);
}
