/**
 * Near-duplicate detection with MinHash and locality-sensitive hashing. A text's signature is the minimum of
 * 128 hash functions over its character 5-grams; two texts agree on each minimum with probability equal to their
 * Jaccard similarity. LSH splits the signature into 32 bands of 4: texts sharing any band are compared, so pairs
 * above ~0.5 similarity are almost always found without comparing every pair.
 */
export const MINHASH_SIZE = 128;
export const LSH_BANDS = 32;
const ROWS_PER_BAND = MINHASH_SIZE / LSH_BANDS;
const SHINGLE = 5;

/** fmix32 from MurmurHash3: a fast, well-mixed 32-bit permutation. */
function fmix32(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

// Fixed seeds: signatures must be comparable across processes and versions.
const SEEDS = Uint32Array.from({ length: MINHASH_SIZE }, (_, i) => fmix32(0x9e3779b9 + i * 0x632be5ab));

function shingleHashes(text: string): Set<number> {
  const s = text.toLowerCase().replace(/\s+/g, ' ').trim();
  const out = new Set<number>();
  if (s.length === 0) return out;
  const grams =
    s.length <= SHINGLE ? [s] : Array.from({ length: s.length - SHINGLE + 1 }, (_, i) => s.slice(i, i + SHINGLE));
  for (const g of grams) {
    let h = 0x811c9dc5; // FNV-1a
    for (let i = 0; i < g.length; i++) h = Math.imul(h ^ g.charCodeAt(i), 0x01000193);
    out.add(h >>> 0);
  }
  return out;
}

export function minhash(text: string): Uint32Array {
  const hashes = [...shingleHashes(text)];
  // Per hash function (seed): the minimum over the shingles.
  return SEEDS.map((seed) => {
    let min = 0xffffffff;
    for (const h of hashes) {
      const v = fmix32(h ^ seed);
      if (v < min) min = v;
    }
    return min;
  });
}

/** Estimated Jaccard similarity of the texts behind two signatures. */
export function similarity(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < MINHASH_SIZE; i++) if (a[i] === b[i]) same++;
  return same / MINHASH_SIZE;
}

/** The LSH bucket key of each band: `band:hash`. */
export function bandKeys(sig: Uint32Array): string[] {
  const keys: string[] = [];
  for (let b = 0; b < LSH_BANDS; b++) {
    let h = 0x811c9dc5;
    for (const v of sig.subarray(b * ROWS_PER_BAND, (b + 1) * ROWS_PER_BAND)) h = fmix32(h ^ v);
    keys.push(`${b}:${h.toString(36)}`);
  }
  return keys;
}

/** An in-memory LSH index over the signatures of one DataNet. */
export class LshIndex<Id> {
  private readonly buckets = new Map<string, Id[]>();
  private readonly signatures = new Map<Id, Uint32Array>();

  get size(): number {
    return this.signatures.size;
  }

  add(id: Id, sig: Uint32Array): void {
    this.signatures.set(id, sig);
    for (const key of bandKeys(sig)) {
      const list = this.buckets.get(key);
      if (list) list.push(id);
      else this.buckets.set(key, [id]);
    }
  }

  remove(id: Id): void {
    const sig = this.signatures.get(id);
    if (!sig) return;
    this.signatures.delete(id);
    for (const key of bandKeys(sig)) {
      const list = this.buckets.get(key);
      if (!list) continue;
      const rest = list.filter((x) => x !== id);
      if (rest.length > 0) this.buckets.set(key, rest);
      else this.buckets.delete(key);
    }
  }

  /** The most similar indexed item at or above `threshold`, if any. */
  nearest(sig: Uint32Array, threshold: number): { id: Id; similarity: number } | undefined {
    let best: { id: Id; similarity: number } | undefined;
    const seen = new Set<Id>();
    for (const key of bandKeys(sig)) {
      for (const id of this.buckets.get(key) ?? []) {
        if (seen.has(id)) continue;
        seen.add(id);
        const other = this.signatures.get(id);
        if (!other) continue; // every id in a bucket has its signature (add and remove keep them together)
        const s = similarity(sig, other);
        if (s >= threshold && (!best || s > best.similarity)) best = { id, similarity: s };
      }
    }
    return best;
  }
}
