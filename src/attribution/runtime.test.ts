import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rejectionOf } from '../../test/fixtures/errors.js';
import { createCorpusAttributor } from './attributor.js';
import { serializeAttribution } from './result.js';
import { type AttributionCache, createAttributionCache, createAttributionRuntime, type VersionRef } from './runtime.js';

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

/** A runtime over one export; `reads` counts how often the export was fetched. */
function runtimeOver(cache: AttributionCache, indexDir?: string) {
  const reads: VersionRef[] = [];
  const blobs = new Map([['bafkprovenance', new TextEncoder().encode('{"kind":"model-card","adapter":{"cid":"x"}}')]]);
  const runtime = createAttributionRuntime({
    cache,
    readExport: async (d) => {
      reads.push(d);
      return exportText;
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
    }).attribute({ ...answer, methods: ['span', 'rag'] });
    expect(serializeAttribution(a)).toBe(serializeAttribution(direct));
    expect(serializeAttribution(b)).toBe(serializeAttribution(direct));
    expect(a.methods).toEqual(['span', 'rag']);
    expect(a.contributions[0]?.id).toBe(id(1));
    expect(readdirSync(indexDir)).toEqual([expect.stringMatching(/^datanet-7-v2-[0-9a-f]{16}$/)]);
    // The version is built once.
    await onDisk.runtime.attribute({ dataNet, ...answer });
    expect(onDisk.reads).toHaveLength(1);
  });

  it('adds no gradient for a receipt that is not held or is not a training receipt; an audit asking for it is refused', async () => {
    const { runtime } = runtimeOver(cache);
    for (const receiptCid of ['bafkmissing', 'bafkprovenance'])
      expect((await runtime.attribute({ dataNet, ...answer, receiptCid })).methods).toEqual(['span', 'rag']);
    const e = await rejectionOf(
      runtime.attribute({ dataNet, ...answer, receiptCid: 'bafkmissing', methods: ['span', 'gradient'] }),
    );
    expect(e.message).toBe('Training receipt bafkmissing is not on the test store or names no gradient index');
  });

  it('keeps at most maxVersions versions, and gives retrieval passages as a context block', async () => {
    const { runtime, reads } = runtimeOver(createAttributionCache({ maxVersions: 1, readBaseModel: cache.base }));
    const other = { ...dataNet, version: 3 };
    await runtime.corpus(dataNet);
    await runtime.corpus(other);
    await runtime.corpus(dataNet);
    expect(reads.map((r) => r.version)).toEqual([2, 3, 2]);
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
