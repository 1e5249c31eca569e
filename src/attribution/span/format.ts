/**
 * The on-disk span index: a directory of
 *   header.json     magic, format version, byte order, tokenizer identity, counts, and each file's size + sha-256,
 *                   sealed by a sha-256 of the header's own canonical JSON;
 *   tokens.u16      the token stream (documents back to back, each ended by 0xFFFF), little-endian;
 *   sa.u32          the suffix array of token positions, little-endian;
 *   offsets.u32     document start offsets in the stream (documents + 1 entries);
 *   documents.json  {"contributors": [address…], "documents": [[contributionId, contributorIndex]…]}.
 * That is 2(N + D) + 4N + 4(D + 1) bytes plus the documents table: ~6.1 bytes per token for 400-token documents.
 *
 * Loading is lazy and never trusts a file unchecked: `openSpanIndex` reads and checks the header and the sizes of
 * all files (a truncated file fails at open); each array is read on first use in one pass that hashes as it reads
 * (sha-256 runs at ~1.7 GB/s here, faster than the read), so verification adds no second pass over the data.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { at, BaseError, canonicalJson, errnoCode } from '../../core/index.js';
import { jsonObject } from '../../protocol/index.js';
import type { SpanIndexData } from './build.js';
import { type DocumentEntry, SEPARATOR } from './corpus.js';
import {
  indexFileCorrupt,
  indexFileMissing,
  indexFileWrongSize,
  indexTokenizerMismatch,
  indexVersionUnsupported,
} from './errors.js';
import type { SearchArrays } from './search.js';
import type { IndexSource } from './source.js';
import type { SpanTokenizer } from './tokenizer.js';

export const SPAN_INDEX_MAGIC = 'tributary-span-index';
export const SPAN_INDEX_VERSION = 1;
export const spanIndexFiles = {
  header: 'header.json',
  tokens: 'tokens.u16',
  sa: 'sa.u32',
  offsets: 'offsets.u32',
  documents: 'documents.json',
} as const;

type DataFile = Exclude<keyof typeof spanIndexFiles, 'header'>;
const dataFiles: DataFile[] = ['tokens', 'sa', 'offsets', 'documents'];

/*
 * The index is a local file set (the node's under <dataDir>/indexes/, the CLI's where `--out` says): written and
 * read by this module only, never exchanged, so its schemas live here rather than in the protocol layer.
 */
/** A byte count, an element count: a non-negative safe integer. */
const count = z.number().int().nonnegative();
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const fileEntry = z.object({ bytes: count, sha256: sha256Hex });

const headerFields = z.object({
  magic: z.literal(SPAN_INDEX_MAGIC),
  version: z.literal(SPAN_INDEX_VERSION),
  byteOrder: z.literal('little'),
  tokenizer: z.string(),
  /** Tokens without separators (= suffix array entries). */
  tokens: count,
  documents: count.min(1),
  /** tokens + documents: the stream length with separators. */
  streamLength: count,
  files: z.object({
    [spanIndexFiles.tokens]: fileEntry,
    [spanIndexFiles.sa]: fileEntry,
    [spanIndexFiles.offsets]: fileEntry,
    [spanIndexFiles.documents]: fileEntry,
  }),
  /** sha-256 of the canonical JSON of every other field. */
  checksum: sha256Hex,
});
export type SpanIndexHeader = z.output<typeof headerFields>;

const fileOf = (h: SpanIndexHeader, f: DataFile) => h.files[spanIndexFiles[f]];

/** `header.json`: every field present, and the counts and file sizes consistent with one another. */
const spanIndexHeader = headerFields.refine(
  (h) =>
    h.streamLength === h.tokens + h.documents && dataFiles.every((f) => fileOf(h, f).bytes === expectedBytes(h, f)),
);

/** `documents.json`: contributors once each, then per document its contribution id and contributor's position. */
const documentsTable = z.object({
  contributors: z.array(z.string()),
  documents: z.array(z.tuple([z.string(), count])),
});

const CHUNK = 16 * 1024 * 1024;

function requireLittleEndian(): void {
  if (endianness() !== 'LE') {
    throw new BaseError('INTERNAL', 'Span indexes are stored little-endian and need a little-endian machine');
  }
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

async function writeHashed(path: string, data: Uint8Array): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  const fh = await open(path, 'w');
  try {
    for (let off = 0; off < data.length; off += CHUNK) {
      const chunk = data.subarray(off, Math.min(data.length, off + CHUNK));
      hash.update(chunk);
      let done = 0;
      while (done < chunk.length) done += (await fh.write(chunk, done, chunk.length - done)).bytesWritten;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { bytes: data.length, sha256: hash.digest('hex') };
}

function documentsJson(documents: DocumentEntry[]): string {
  const index = new Map<string, number>();
  const contributors: string[] = [];
  const rows = documents.map((d) => {
    let i = index.get(d.contributor);
    if (i === undefined) {
      i = contributors.length;
      index.set(d.contributor, i);
      contributors.push(d.contributor);
    }
    return [d.contributionId, i];
  });
  return JSON.stringify({ contributors, documents: rows });
}

function sealed(header: Omit<SpanIndexHeader, 'checksum'>): SpanIndexHeader {
  return { ...header, checksum: createHash('sha256').update(canonicalJson(header)).digest('hex') };
}

/**
 * Writes `data` into `dir` (created if needed; an index already there is replaced). The header goes last, by
 * rename, and any old header is removed first, so an interrupted write leaves a directory that refuses to open.
 */
export async function writeSpanIndex(
  data: SpanIndexData,
  dir: string,
): Promise<{ dir: string; bytes: number; header: SpanIndexHeader }> {
  requireLittleEndian();
  await mkdir(dir, { recursive: true });
  await rm(join(dir, spanIndexFiles.header), { force: true });
  const write = (f: DataFile, bytes: Uint8Array) => writeHashed(join(dir, spanIndexFiles[f]), bytes);
  // One after another, in this order (the header lists them so).
  const files: SpanIndexHeader['files'] = {
    [spanIndexFiles.tokens]: await write('tokens', bytesOf(data.tokens)),
    [spanIndexFiles.sa]: await write('sa', bytesOf(data.sa)),
    [spanIndexFiles.offsets]: await write('offsets', bytesOf(data.starts)),
    [spanIndexFiles.documents]: await write('documents', new TextEncoder().encode(documentsJson(data.documents))),
  };
  const header = sealed({
    magic: SPAN_INDEX_MAGIC,
    version: SPAN_INDEX_VERSION,
    byteOrder: 'little',
    tokenizer: data.tokenizer,
    tokens: data.sa.length,
    documents: data.documents.length,
    streamLength: data.tokens.length,
    files,
  });
  const tmp = join(dir, `${spanIndexFiles.header}.tmp`);
  await writeFile(tmp, `${JSON.stringify(header, null, 2)}\n`);
  await rename(tmp, join(dir, spanIndexFiles.header));
  const bytes = Object.values(files).reduce((s, f) => s + f.bytes, 0) + (await stat(join(dir, 'header.json'))).size;
  return { dir, bytes, header };
}

function expectedBytes(h: SpanIndexHeader, f: DataFile): number {
  switch (f) {
    case 'tokens':
      return 2 * h.streamLength;
    case 'sa':
      return 4 * h.tokens;
    case 'offsets':
      return 4 * (h.documents + 1);
    case 'documents':
      return fileOf(h, 'documents').bytes;
  }
}

async function readHeader(dir: string): Promise<SpanIndexHeader> {
  const path = join(dir, spanIndexFiles.header);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw indexFileMissing(path);
    throw e;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw indexFileCorrupt(path, 'not valid JSON');
  }
  // Which file it is and which format, before anything else, so a newer index says so rather than "inconsistent".
  const raw = jsonObject.safeParse(value);
  if (!raw.success || raw.data.magic !== SPAN_INDEX_MAGIC) throw indexFileCorrupt(path, 'not a span index header');
  const { checksum, ...rest } = raw.data;
  if (rest.version !== SPAN_INDEX_VERSION) throw indexVersionUnsupported(path, rest.version, SPAN_INDEX_VERSION);
  // The seal covers the fields as written, unknown ones included.
  if (checksum !== createHash('sha256').update(canonicalJson(rest)).digest('hex')) {
    throw indexFileCorrupt(path, 'its checksum does not match its contents');
  }
  const header = spanIndexHeader.safeParse(raw.data);
  if (!header.success) throw indexFileCorrupt(path, 'its fields are inconsistent');
  return header.data;
}

async function checkSize(path: string, expected: number): Promise<void> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw indexFileMissing(path);
    throw e;
  }
  if (size !== expected) throw indexFileWrongSize(path, expected, size);
}

/** Reads a whole file into a fresh buffer, hashing each chunk as it arrives; refuses any mismatch. */
async function readVerified(path: string, bytes: number, sha256: string): Promise<ArrayBuffer> {
  const buffer = new ArrayBuffer(bytes);
  const view = new Uint8Array(buffer);
  const hash = createHash('sha256');
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw indexFileMissing(path);
    throw e;
  }
  try {
    const size = (await fh.stat()).size;
    if (size !== bytes) throw indexFileWrongSize(path, bytes, size);
    let off = 0;
    while (off < bytes) {
      const { bytesRead } = await fh.read(view, off, Math.min(CHUNK, bytes - off), off);
      if (bytesRead === 0) throw indexFileWrongSize(path, bytes, off);
      hash.update(view.subarray(off, off + bytesRead));
      off += bytesRead;
    }
  } finally {
    await fh.close();
  }
  if (hash.digest('hex') !== sha256) throw indexFileCorrupt(path, 'its sha-256 does not match the header');
  return buffer;
}

function parseDocuments(path: string, bytes: ArrayBuffer, count: number): DocumentEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw indexFileCorrupt(path, 'not valid JSON');
  }
  const bad = () => indexFileCorrupt(path, 'the documents table does not match the header');
  const table = documentsTable.safeParse(value);
  if (!table.success || table.data.documents.length !== count) throw bad();
  const { contributors, documents } = table.data;
  return documents.map(([contributionId, index]) => {
    const contributor = contributors[index];
    if (contributor === undefined) throw bad();
    return { contributionId, contributor };
  });
}

/** Document boundaries must agree with the separators in the stream, or spans could cross documents. */
function checkOffsets(path: string, starts: Uint32Array, tokens: Uint16Array): void {
  if (starts[0] !== 0 || starts[starts.length - 1] !== tokens.length) {
    throw indexFileCorrupt(path, 'document offsets do not match the token stream');
  }
  for (let d = 1; d < starts.length; d++) {
    const end = at(starts, d);
    if (end <= at(starts, d - 1) || tokens[end - 1] !== SEPARATOR) {
      throw indexFileCorrupt(path, 'document offsets do not match the token stream');
    }
  }
}

/**
 * Opens the index in `dir` for `tokenizer`: reads and checks the header and file sizes now, the arrays on first
 * use. Fails with INDEX_INVALID naming the file for anything missing, truncated, corrupt or built with another
 * tokenizer.
 */
export async function openIndexSource(dir: string, tokenizer: SpanTokenizer): Promise<IndexSource> {
  requireLittleEndian();
  const h = await readHeader(dir);
  if (h.tokenizer !== tokenizer.id) throw indexTokenizerMismatch(dir, h.tokenizer, tokenizer.id);
  const path = (f: DataFile) => join(dir, spanIndexFiles[f]);
  for (const f of dataFiles) await checkSize(path(f), expectedBytes(h, f));
  const loads = new Map<DataFile, Promise<ArrayBuffer>>();
  const load = (f: DataFile): Promise<ArrayBuffer> => {
    let p = loads.get(f);
    if (!p) {
      const entry = fileOf(h, f);
      p = readVerified(path(f), entry.bytes, entry.sha256);
      loads.set(f, p);
    }
    return p;
  };
  let arrays: Promise<SearchArrays> | undefined;
  let starts: Promise<Uint32Array> | undefined;
  let documents: Promise<DocumentEntry[]> | undefined;
  const source: IndexSource = {
    info: { tokenizer: h.tokenizer, tokens: h.tokens, documents: h.documents, dir },
    // Files load one after another so that, with several bad files, the same one is always reported.
    arrays() {
      arrays ??= (async () => {
        const tokens = new Uint16Array(await load('tokens'));
        return { tokens, sa: new Uint32Array(await load('sa')) };
      })();
      return arrays;
    },
    starts() {
      starts ??= (async () => {
        const { tokens } = await source.arrays();
        const s = new Uint32Array(await load('offsets'));
        checkOffsets(path('offsets'), s, tokens);
        return s;
      })();
      return starts;
    },
    documents() {
      documents ??= load('documents').then((b) => parseDocuments(path('documents'), b, h.documents));
      return documents;
    },
  };
  return source;
}
