import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rejectionOf } from '../../../test/fixtures/errors.js';
import { canonicalJson } from '../../core/index.js';
import { buildSpanIndexFromTexts } from './build.js';
import { spanIndexFiles, writeSpanIndex } from './format.js';
import { openSpanIndex, spanIndexFromData } from './span-index.js';
import { createWordTokenizer, type SpanTokenizer } from './tokenizer.js';

const rows = [
  { contributionId: '0xaa', contributor: '0x1111', text: 'The amber signal lamp flickered twice before dusk.' },
  { contributionId: '0xbb', contributor: '0x2222', text: 'Copper kettles were traded for saffron at the fair.' },
  { contributionId: '0xcc', contributor: '0x1111', text: 'The amber signal lamp was repaired at the fair.' },
];
const tokenizer = createWordTokenizer();

let dir: string;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'span-index-'));
  await writeSpanIndex(buildSpanIndexFromTexts({ documents: rows, tokenizer }), dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const file = (f: keyof typeof spanIndexFiles) => join(dir, spanIndexFiles[f]);
const open = (t: SpanTokenizer = tokenizer) => openSpanIndex({ dir, tokenizer: t });
/** Rewrites one byte in the middle of a file (same size, different content). */
function flipByte(path: string): void {
  const bytes = readFileSync(path);
  bytes[bytes.length >> 1]! ^= 0x5a;
  writeFileSync(path, bytes);
}

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
/** Replaces a file and re-seals the header as a (buggy or hostile) writer would: every checksum matches. */
function forge(f: keyof typeof spanIndexFiles, content: Buffer): void {
  writeFileSync(file(f), content);
  const { checksum: _, ...header } = JSON.parse(readFileSync(file('header'), 'utf8'));
  header.files[spanIndexFiles[f]] = { bytes: content.length, sha256: sha(content) };
  writeFileSync(file('header'), JSON.stringify({ ...header, checksum: sha(canonicalJson(header)) }));
}

describe('span index on disk', () => {
  it('answers exactly like the in-memory index it was written from', async () => {
    const disk = await open();
    const memory = spanIndexFromData(buildSpanIndexFromTexts({ documents: rows, tokenizer }), tokenizer);
    expect(disk.info).toEqual({ tokenizer: tokenizer.id, tokens: 29, documents: 3, dir });
    for (const q of ['The amber signal lamp', 'at the fair', 'fair .', 'dusk . Copper'])
      expect(await disk.countText(q)).toBe(await memory.countText(q));
    expect(await disk.countText('The amber signal lamp')).toBe(2);
    const text = 'Yesterday The amber signal lamp flickered twice before dusk.';
    expect(await disk.traceText(text)).toEqual(await memory.traceText(text));
  });

  it('is at most 7 bytes per token plus the header and documents table, in five files', async () => {
    const header = JSON.parse(readFileSync(file('header'), 'utf8'));
    expect(Object.keys(header.files).sort()).toEqual(['documents.json', 'offsets.u32', 'sa.u32', 'tokens.u16']);
    expect(header.files['tokens.u16'].bytes).toBe(2 * (29 + 3));
    expect(header.files['sa.u32'].bytes).toBe(4 * 29);
    expect(header.files['offsets.u32'].bytes).toBe(4 * 4);
    expect(JSON.parse(readFileSync(file('documents'), 'utf8'))).toEqual({
      contributors: ['0x1111', '0x2222'],
      documents: [
        ['0xaa', 0],
        ['0xbb', 1],
        ['0xcc', 0],
      ],
    });
  });

  it('refuses an index built with another tokenizer', async () => {
    const other: SpanTokenizer = { id: 'bpe-sha256:1234', encode: () => [] };
    const e = await rejectionOf(open(other));
    expect([e.code, e.message]).toEqual([
      'INDEX_INVALID',
      `Span index ${dir} was built with tokenizer word-fnv1a-mod65535-v2, not bpe-sha256:1234; rebuild it with the tokenizer in use`,
    ]);
  });

  it('detects a truncated or missing file when opening, naming the file', async () => {
    truncateSync(file('sa'), 100);
    const e = await rejectionOf(open());
    expect([e.code, e.message, e.details]).toEqual([
      'INDEX_INVALID',
      `Span index file ${file('sa')} is truncated: expected 116 bytes, found 100`,
      { file: file('sa'), expectedBytes: 116, foundBytes: 100 },
    ]);
    writeFileSync(file('offsets'), Buffer.alloc(20));
    unlinkSync(file('tokens'));
    expect((await rejectionOf(open())).message).toBe(`Span index file ${file('tokens')} is missing`);
    unlinkSync(file('header'));
    expect((await rejectionOf(open())).message).toBe(`Span index file ${file('header')} is missing`);
  });

  it('reports a file that grew', async () => {
    writeFileSync(file('offsets'), Buffer.alloc(20));
    expect((await rejectionOf(open())).message).toBe(
      `Span index file ${file('offsets')} has the wrong size: expected 16 bytes, found 20`,
    );
  });

  it('opens lazily, then refuses a corrupt array on first use, every time', async () => {
    flipByte(file('sa'));
    const index = await open();
    for (let i = 0; i < 2; i++) {
      const e = await rejectionOf(index.countText('The amber'));
      expect([e.code, e.message]).toEqual([
        'INDEX_INVALID',
        `Span index file ${file('sa')} is corrupt: its sha-256 does not match the header`,
      ]);
    }
  });

  it('refuses a corrupt documents table or offsets only when a trace needs them', async () => {
    flipByte(file('documents'));
    const index = await open();
    expect(await index.countText('The amber signal lamp')).toBe(2);
    expect((await rejectionOf(index.traceText('The amber signal lamp flickered'))).message).toBe(
      `Span index file ${file('documents')} is corrupt: its sha-256 does not match the header`,
    );
    expect((await rejectionOf(index.load())).message).toBe(
      `Span index file ${file('documents')} is corrupt: its sha-256 does not match the header`,
    );
  });

  it('refuses a tampered, foreign or newer header', async () => {
    const header = JSON.parse(readFileSync(file('header'), 'utf8'));
    writeFileSync(file('header'), JSON.stringify({ ...header, tokens: header.tokens - 1 }));
    expect((await rejectionOf(open())).message).toBe(
      `Span index file ${file('header')} is corrupt: its checksum does not match its contents`,
    );
    writeFileSync(file('header'), JSON.stringify({ ...header, version: 2 }));
    expect((await rejectionOf(open())).message).toBe(
      `Span index file ${file('header')} has format version 2; this build reads version 1`,
    );
    writeFileSync(file('header'), '{"magic": "something else"}');
    expect((await rejectionOf(open())).message).toBe(
      `Span index file ${file('header')} is corrupt: not a span index header`,
    );
    writeFileSync(file('header'), '{"magic": ');
    expect((await rejectionOf(open())).message).toBe(`Span index file ${file('header')} is corrupt: not valid JSON`);
  });

  it('refuses a sealed header whose fields are missing or disagree with one another', async () => {
    const { checksum: _, ...header } = JSON.parse(readFileSync(file('header'), 'utf8'));
    const seal = (h: Record<string, unknown>) =>
      writeFileSync(file('header'), JSON.stringify({ ...h, checksum: sha(canonicalJson(h)) }));
    const inconsistent = `Span index file ${file('header')} is corrupt: its fields are inconsistent`;
    for (const h of [
      { ...header, streamLength: header.streamLength + 1 },
      { ...header, tokens: -1 },
      { ...header, documents: 0, streamLength: header.tokens },
      { ...header, files: { ...header.files, [spanIndexFiles.sa]: undefined } },
      { ...header, files: { ...header.files, [spanIndexFiles.sa]: { ...header.files[spanIndexFiles.sa], bytes: 8 } } },
      { ...header, byteOrder: 'big' },
    ]) {
      seal(h);
      expect((await rejectionOf(open())).message).toBe(inconsistent);
    }
    seal(header);
    expect(await (await open()).countText('The amber signal lamp')).toBe(2);
  });

  it('replaces an index written before into the same directory', async () => {
    const more = [...rows, { contributionId: '0xdd', contributor: '0x3333', text: 'The amber signal lamp' }];
    await writeSpanIndex(buildSpanIndexFromTexts({ documents: more, tokenizer }), dir);
    expect(await (await open()).countText('The amber signal lamp')).toBe(3);
  });

  it('refuses offsets or a documents table that disagree with the stream even when checksums match', async () => {
    const original = readFileSync(file('offsets'));
    const offsets = Buffer.from(original);
    offsets.writeUInt32LE(offsets.readUInt32LE(4) - 1, 4);
    forge('offsets', offsets);
    expect((await rejectionOf((await open()).traceText('The amber signal lamp was'))).message).toBe(
      `Span index file ${file('offsets')} is corrupt: document offsets do not match the token stream`,
    );
    forge('offsets', original);
    for (const table of [
      { contributors: ['0x1111'], documents: [['0xaa', 0]] },
      {
        contributors: ['0x1111'],
        documents: [
          ['0xaa', 0],
          ['0xbb', 1],
          ['0xcc', 0],
        ],
      },
      {
        contributors: ['0x1111', 7],
        documents: [
          ['0xaa', 0],
          ['0xbb', 0],
          ['0xcc', 0],
        ],
      },
      {
        contributors: ['0x1111'],
        documents: [
          ['0xaa', 0],
          [5, 0],
          ['0xcc', 0],
        ],
      },
    ]) {
      forge('documents', Buffer.from(JSON.stringify(table)));
      expect((await rejectionOf((await open()).load())).message).toBe(
        `Span index file ${file('documents')} is corrupt: the documents table does not match the header`,
      );
    }
  });
});
