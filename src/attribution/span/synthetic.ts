/**
 * Text-like token streams for benches and tests: what a tokenized DataNet looks like statistically, without
 * needing gigabytes of real text. Words follow a Zipf law over the vocabulary; frequent multi-token phrases recur;
 * documents open and close with shared boilerplate; some quote earlier documents; a few are exact or near
 * duplicates — the long repeats that real corpora have and that uniform random tokens lack (those would make
 * every suffix unique after ~2 tokens and flatter any suffix-sorting algorithm).
 */

export interface SyntheticCorpusOptions {
  /** Total tokens over all documents (the last document is cut to fit). */
  tokens: number;
  seed?: number;
  /** Token ids are drawn from [0, vocabSize); default 32,000 (≤ 65,535). */
  vocabSize?: number;
  /** Median document length in tokens; default 400 (log-normal, clipped to [16, 4000]). */
  medianDocTokens?: number;
}

export interface SyntheticCorpus {
  /** All documents' tokens back to back (no separators). */
  tokens: Uint16Array;
  /** Document d is tokens[starts[d], starts[d + 1]); length = documents + 1. */
  starts: Uint32Array;
}

/** A small fast deterministic PRNG (mulberry32); floats in [0, 1). */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Samples ranks 0..n-1 with P(r) ∝ 1/(r+1)^s by binary search on the CDF. */
export function createZipf(n: number, s: number, rng: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) {
    sum += 1 / (r + 1) ** s;
    cdf[r] = sum;
  }
  for (let r = 0; r < n; r++) cdf[r]! /= sum;
  return () => {
    const u = rng();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export function syntheticCorpus(options: SyntheticCorpusOptions): SyntheticCorpus {
  const total = options.tokens;
  const vocab = options.vocabSize ?? 32_000;
  const median = options.medianDocTokens ?? 400;
  const rng = createRng(options.seed ?? 1);
  // Token ids are a shuffled image of frequency ranks, as in a real BPE vocabulary.
  const idOfRank = new Uint16Array(vocab);
  for (let i = 0; i < vocab; i++) idOfRank[i] = i;
  for (let i = vocab - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const x = idOfRank[i]!;
    idOfRank[i] = idOfRank[j]!;
    idOfRank[j] = x;
  }
  const word = createZipf(vocab, 1.05, rng);
  const token = () => idOfRank[word()]!;
  const randomSeq = (len: number) => Uint16Array.from({ length: len }, token);
  const phrases = Array.from({ length: 20_000 }, () => randomSeq(2 + Math.floor(rng() * 7)));
  const phrase = createZipf(phrases.length, 1.0, rng);
  const boiler = Array.from({ length: 200 }, () => randomSeq(20 + Math.floor(rng() * 200)));
  const boilerplate = createZipf(boiler.length, 1.1, rng);

  const out = new Uint16Array(total);
  const starts: number[] = [0];
  let n = 0;
  const put = (seq: ArrayLike<number>, limit: number) => {
    const len = Math.min(seq.length, limit - n);
    for (let i = 0; i < len; i++) out[n++] = seq[i]!;
  };
  while (n < total) {
    const docStart = n;
    const gauss = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    const want = Math.max(16, Math.min(4000, Math.round(median * Math.exp(0.9 * gauss))));
    const end = Math.min(total, n + want);
    const kind = rng();
    const docs = starts.length - 1;
    if (kind < 0.06 && docs > 0) {
      // An exact (3%) or near (3%) duplicate of an earlier document.
      const d = Math.floor(rng() * docs);
      put(out.subarray(starts[d]!, starts[d + 1]!), total);
      if (kind >= 0.03) for (let i = docStart; i < n; i++) if (rng() < 0.02) out[i] = token();
    } else {
      if (rng() < 0.3) put(boiler[boilerplate()]!, end);
      const footer = rng() < 0.2 ? boiler[boilerplate()]! : undefined;
      const bodyEnd = footer ? Math.max(n, end - footer.length) : end;
      while (n < bodyEnd) {
        const r = rng();
        if (r < 0.35) put(phrases[phrase()]!, bodyEnd);
        else if (r < 0.352 && n > 1000) {
          // A quotation of 20–200 tokens from anywhere earlier in the corpus.
          const len = 20 + Math.floor(rng() * 180);
          const from = Math.floor(rng() * (n - len));
          if (from >= 0) put(out.slice(from, from + len), bodyEnd);
        } else out[n++] = token();
      }
      if (footer) put(footer, end);
    }
    if (n === docStart) out[n++] = token();
    starts.push(n);
  }
  return { tokens: out, starts: Uint32Array.from(starts) };
}
