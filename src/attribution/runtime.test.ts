import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rejectionOf } from '../../test/fixtures/errors.js';
import { createCorpusAttributor } from './attributor.js';
import { serializeAttribution } from './result.js';
import {
  type AttributionCache,
  createAttributionCache,
  createAttributionRuntime,
  servedAttributionMethods,
  type VersionRef,
} from './runtime.js';

const id = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as const;
const who = ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'];
const texts = [
  'The lighthouse keeper of Varnholm counted exactly forty-two gulls every dawn.',
  'Copper kettles from Ostrava were traded for saffron at the autumn fair.',
  'Marguerite repaired violins with glue made from quince seeds.',
];
const exportText = texts
  .map(
    (text, i) =>
      `${JSON.stringify({ id: id(i + 1), contributor: who[i % 2], cid: `bafk${i}`, content: { text }, text })}\n`,
  )
  .join('');
const dataNet: VersionRef = { id: '7', version: 2, root: id(99) };
const answer = {
  prompt: 'Who counted the gulls?',
  output: 'The lighthouse keeper of Varnholm counted exactly forty-two gulls.',
};

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A runtime over one export (`exported.text`, replaceable); `reads` counts how often the export was fetched. */
function runtimeOver(cache: AttributionCache, indexDir?: string, exported = { text: exportText }) {
  const reads: VersionRef[] = [];
  const blobs = new Map([['bafkprovenance', new TextEncoder().encode('{"kind":"model-card","adapter":{"cid":"x"}}')]]);
  const runtime = createAttributionRuntime({
    cache,
    readExport: async (d) => {
      reads.push(d);
      return exported.text;
    },
    readBlob: async (cid) => blobs.get(cid) ?? null,
    blobSource: 'the test store',
    ...(indexDir ? { indexDir } : {}),
  });
  return { runtime, reads };
}

describe('attribution runtime', () => {
  const cache = createAttributionCache();

  it('attributes an answer as a corpus attributor over the export does, with the index on disk or in memory', async () => {
    const indexDir = mkdtempSync(join(tmpdir(), 'runtime-'));
    dirs.push(indexDir);
    const onDisk = runtimeOver(cache, indexDir);
    const inMemory = runtimeOver(createAttributionCache({ readBaseModel: cache.base }));
    const [a, b] = [
      await onDisk.runtime.attribute({ dataNet, ...answer }),
      await inMemory.runtime.attribute({ dataNet, ...answer }),
    ];
    const direct = await createCorpusAttributor({
      rows: texts.map((text, i) => ({ id: id(i + 1), contributor: who[i % 2] ?? '', text })),
      tokenizer: cache.tokenizer(),
      dataNet,
    }).attribute({ ...answer, methods: ['span'] });
    expect(serializeAttribution(a)).toBe(serializeAttribution(direct));
    expect(serializeAttribution(b)).toBe(serializeAttribution(direct));
    expect(a.methods).toEqual(['span']);
    expect(a.contributions[0]?.id).toBe(id(1));
    expect(readdirSync(indexDir)).toEqual([expect.stringMatching(/^datanet-7-v2-[0-9a-f]{16}$/)]);
    // The row set is read for every answer (a withdrawal must take effect), the index built once.
    await onDisk.runtime.attribute({ dataNet, ...answer });
    expect(onDisk.reads).toHaveLength(2);
    expect(readdirSync(indexDir)).toHaveLength(1);
  });

  it('pays no RAG evidence for an answer served without retrieval (word overlap is not influence)', async () => {
    const { runtime } = runtimeOver(cache);
    // The answer shares words with the violin row, which the model never read: only a retrieved prompt earns RAG.
    const overlap = { prompt: 'Tell me something.', output: 'Marguerite and the violins and quince seeds.' };
    const plain = await runtime.attribute({ dataNet, ...overlap });
    expect(plain.methods).toEqual(['span']);
    const grounded = await runtime.attribute({ dataNet, ...overlap, retrieval: true });
    expect(grounded.methods).toEqual(['span', 'rag']);
    expect(servedAttributionMethods({ gradient: true, retrieval: false })).toEqual(['span', 'gradient']);
    expect(servedAttributionMethods({ gradient: true, retrieval: true })).toEqual(['span', 'gradient', 'rag']);
  });

  it('serve, withdraw, serve: the answer after a withdrawal is attributed without the withdrawn row, no restart', async () => {
    const exported = { text: exportText };
    const { runtime } = runtimeOver(createAttributionCache({ readBaseModel: cache.base }), undefined, exported);
    const before = await runtime.attribute({ dataNet, ...answer, retrieval: true });
    expect(before.contributions.map((c) => c.id)).toContain(id(1));
    // Row 1 withdrawn: the node's export now leaves it out.
    exported.text = exportText.split('\n').slice(1).join('\n');
    const after = await runtime.attribute({ dataNet, ...answer, retrieval: true });
    expect(after.contributions.map((c) => c.id)).not.toContain(id(1));
    expect(after.corpusHash).not.toBe(before.corpusHash);
    expect(await runtime.retrieve(dataNet, 'Who counted the gulls of Varnholm?', 3)).not.toMatchObject({
      citations: expect.arrayContaining([expect.objectContaining({ id: id(1) })]),
    });
    // An audit of the first answer, given the rows it was served over, recomputes it byte for byte.
    const rows = texts.map((text, i) => ({ id: id(i + 1), contributor: who[i % 2] ?? '', text }));
    const replayed = await runtime.attribute({ dataNet, ...answer, methods: before.methods, rows });
    expect(serializeAttribution(replayed)).toBe(serializeAttribution(before));
  });

  it('a copier who grinds a lower contribution id than the original still comes second: rows are read in arrival order', async () => {
    const original = texts[0] ?? '';
    // The copy (a later contribution, arrival 2) has the lower id, so leaf order puts it first.
    const pinned = [
      { id: id(1), contributor: who[1], arrival: 2, text: original },
      { id: id(2), contributor: who[0], arrival: 1, text: original },
    ].map(
      (r) =>
        `${JSON.stringify({ exportVersion: 2, ...r, contentHash: id(50), licenseId: id(51), withdrawn: false, cid: 'bafk', content: { text: r.text } })}\n`,
    );
    const { runtime } = runtimeOver(createAttributionCache({ readBaseModel: cache.base }), undefined, {
      text: pinned.join(''),
    });
    const r = await runtime.attribute({ dataNet, ...answer });
    expect(r.contributions.map((c) => c.id)).toEqual([id(2)]);
    expect((await runtime.corpus(dataNet)).rows.map((row) => row.id)).toEqual([id(2), id(1)]);
  });

  it('adds no gradient for a receipt that is not held or is not a training receipt; an audit asking for it is refused', async () => {
    const { runtime } = runtimeOver(cache);
    for (const receiptCid of ['bafkmissing', 'bafkprovenance'])
      expect((await runtime.attribute({ dataNet, ...answer, receiptCid })).methods).toEqual(['span']);
    const e = await rejectionOf(
      runtime.attribute({ dataNet, ...answer, receiptCid: 'bafkmissing', methods: ['span', 'gradient'] }),
    );
    expect(e.message).toBe('Training receipt bafkmissing is not on the test store or names no gradient index');
  });

  it('keeps at most maxVersions versions, and gives retrieval passages as a context block', async () => {
    const small = createAttributionCache({ maxVersions: 1, readBaseModel: cache.base });
    const { runtime, reads } = runtimeOver(small);
    const other = { ...dataNet, version: 3 };
    await runtime.corpus(dataNet);
    await runtime.corpus(other);
    expect([...small.corpora.keys()]).toEqual([expect.stringMatching(/^7:3:0x/)]);
    await runtime.corpus(dataNet);
    expect(reads.map((r) => r.version)).toEqual([2, 3, 2]);
    expect([...small.corpora.keys()]).toEqual([expect.stringMatching(/^7:2:0x/)]);
    const r = await runtime.retrieve(dataNet, 'Who repaired violins?', 1);
    expect(r).toEqual({
      context: `Context:\n- ${texts[2]}`,
      citations: [{ id: id(3), contributor: who[0] }],
    });
    expect(await runtime.retrieve(dataNet, 'zzz qqq', 1)).toBeNull();
  });

  it('refuses a malformed export, naming the line and field', async () => {
    const runtime = createAttributionRuntime({
      cache,
      readExport: async () =>
        `${exportText}{"id":"0x12","contributor":"${who[0]}","cid":"c","content":{},"text":"t"}\n`,
      readBlob: async () => null,
    });
    expect((await rejectionOf(runtime.corpus({ ...dataNet, version: 9 }))).message).toBe(
      'DataNet 7 version 9 export:4: field "id": expected a 32-byte hex string',
    );
    // A failed build is not kept: the next call tries again.
    expect([...cache.corpora.keys()].some((k) => k.startsWith('7:9:'))).toBe(false);
  });
});
