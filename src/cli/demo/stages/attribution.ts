/**
 * Stage "attribution": the serving stage's paid answers, attributed by the node when they were served, are read
 * back (`GET /v1/attributions/:requestId`), checked against the hash their receipts signed, and recomputed here
 * from the DataNet version's public export — twice — as any auditor would: the same bytes every time.
 */

import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import type { Hex } from 'viem';
import {
  type AttributionMethod,
  type AttributionResult,
  type CorpusRow,
  createCorpusAttributor,
  createGradientScorer,
  loadGradientArtifacts,
  modelSpanTokenizer,
  PPM,
  serializeAttribution,
  toPpm,
} from '../../../attribution/index.js';
import { BaseError, createApiClient } from '../../../core/index.js';
import { baseModelFromGguf, bundledBaseModel, formatChat } from '../../../engine/index.js';
import type { DemoStage } from '../context.js';
import { demoPayer } from '../payer.js';
import { DEMO_MODEL } from './factory.js';

interface Served {
  attribution: AttributionResult;
  matchesReceipt: boolean;
}

export const attributionStage: DemoStage = {
  name: 'attribution',
  async run({ node, out, reports }) {
    const serving = reports.serving as { answers: { question: string; answer: string; requestId: string }[] };
    const dataNet = reports.datanet as { dataNetId: string; version: number };
    const api = createApiClient(node.api);
    const rows: CorpusRow[] = [];
    for await (const line of node.datanets.exportVersion(BigInt(dataNet.dataNetId), dataNet.version)) {
      const r = JSON.parse(line) as CorpusRow;
      rows.push({ id: r.id, contributor: r.contributor, text: r.text });
    }
    // Two independent auditors: fresh tokenizer and indexes each, same public inputs.
    const lineage = {
      id: dataNet.dataNetId,
      version: dataNet.version,
      root: (reports.factory as { dataNetRoot: Hex }).dataNetRoot,
    };
    // The gradient method from public artifacts: the training receipt names the adapter and gradient index blobs.
    const readBlob = async (cid: string) => {
      const res = await fetch(`${node.api}/v1/blobs/${cid}`);
      return res.ok ? new Uint8Array(await res.arrayBuffer()) : null;
    };
    const base = baseModelFromGguf(new Uint8Array(readFileSync(bundledBaseModel.path)));
    const factory = reports.factory as { receiptCid: string };
    const artifacts = await loadGradientArtifacts(factory.receiptCid, readBlob, base);
    if (!artifacts) throw new BaseError('INTERNAL', 'The demo model was trained without a gradient index', {});
    const auditors = [0, 1].map(() => ({
      corpus: createCorpusAttributor({ rows, tokenizer: modelSpanTokenizer('bundled'), dataNet: lineage }),
      gradient: createGradientScorer(rows, artifacts),
    }));
    const methods: AttributionMethod[] = ['span', 'gradient', 'rag'];
    const totals = new Map<string, number>();
    let deterministic = true;
    for (const a of serving.answers) {
      const served = await api.request<Served>('GET', `/v1/attributions/${a.requestId}`);
      if (!served.matchesReceipt)
        throw new BaseError('INTERNAL', `The attribution of ${a.requestId} does not match its signed receipt`, {
          details: { requestId: a.requestId },
        });
      const input = { prompt: formatChat([{ role: 'user', content: a.question }]), output: a.answer, methods };
      const recomputed: string[] = [];
      for (const x of auditors)
        recomputed.push(serializeAttribution(await x.corpus.attribute({ ...input, gradient: x.gradient.score })));
      const same = recomputed.every((r) => r === serializeAttribution(served.attribution));
      if (!same) {
        const stored = serializeAttribution(served.attribution);
        const at = [...stored].findIndex((c, i) => c !== recomputed[0]?.[i]);
        out.note(
          `  ✗ ${a.requestId}: recomputed attribution differs from the node's at ${at}: ${stored.slice(at - 40, at + 80)} vs ${recomputed[0]?.slice(at - 40, at + 80)}`,
        );
      }
      deterministic &&= same;
      for (const [who, ppm] of Object.entries(served.attribution.sharesPpm))
        totals.set(who, (totals.get(who) ?? 0) + ppm);
      totals.set('unattributed', (totals.get('unattributed') ?? 0) + served.attribution.unattributedPpm);
    }
    // The answers' shares pooled (each answer counts equally), again as integers summing to a million.
    const pooled = toPpm(totals, PPM);
    const unattributedPpm = pooled.get('unattributed') ?? 0;
    pooled.delete('unattributed');
    const sharesPpm = Object.fromEntries([...pooled].sort((x, y) => y[1] - x[1]));
    const topContributor = Object.keys(sharesPpm)[0] ?? null;
    out.note(
      `  ${serving.answers.length} answers attributed; top contributor ${topContributor}, ${unattributedPpm} ppm unattributed`,
    );
    for (const x of auditors) x.gradient.dispose();

    // Served with retrieval: passages of the DataNet go before the question, and the ones the answer uses earn.
    const payer = await demoPayer(node);
    const client = new OpenAI({ apiKey: 'demo', baseURL: `${node.api}/v1`, maxRetries: 0, fetch: payer.fetch });
    const grounded = (await client.chat.completions.create({
      model: DEMO_MODEL,
      max_tokens: 24,
      messages: [{ role: 'user', content: 'How many moons does Mars have?' }],
      retrieval: true,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming)) as unknown as {
      tributary: { requestId: string; retrieved?: { id: string }[] };
    };
    const cited = grounded.tributary.retrieved ?? [];
    const groundedAttribution = (await api.request<Served>('GET', `/v1/attributions/${grounded.tributary.requestId}`))
      .attribution;
    const earning = new Set(groundedAttribution.contributions.map((c) => c.id));
    out.note(
      `  retrieval: ${cited.length} passages cited, ${cited.filter((c) => earning.has(c.id)).length} of them earn`,
    );
    return {
      methods,
      requests: serving.answers.length,
      topContributor,
      sharesPpm,
      unattributedPpm,
      deterministic,
      retrieval: { cited: cited.length, citedEarning: cited.filter((c) => earning.has(c.id)).length },
    };
  },
};
