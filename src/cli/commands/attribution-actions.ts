/** The actions of `tributary index …` and `tributary attribute` (the commands are defined in attribution.ts). */
import type { Command } from 'commander';
import {
  type AttributionResult,
  buildSpanIndexFromTexts,
  createCorpusAttributor,
  createWordTokenizer,
  modelSpanTokenizer,
  openSpanIndex,
  parseMethods,
  readCorpus,
  type SpanTokenizer,
  serializeAttribution,
  writeSpanIndex,
} from '../../attribution/index.js';
import { BaseError } from '../../core/index.js';
import { formatChat } from '../../engine/index.js';
import { settlementApi } from '../../protocol/index.js';
import { createAttributionAudit, gradientScorerFromNode } from '../attribution-audit.js';
import { exitCodeByCode } from '../exit-codes.js';
import { isJson } from '../options.js';
import { createOutput } from '../output.js';
import { publicApi } from '../remote.js';

const tokenizerFor = (model?: string): SpanTokenizer => (model ? modelSpanTokenizer(model) : createWordTokenizer());

/** Who is paid for an answer, largest share first, in percent: one line each, then the unattributed share. */
export function shareLines(r: Pick<AttributionResult, 'sharesPpm' | 'unattributedPpm'>): string[] {
  const lines = Object.entries(r.sharesPpm)
    .sort((a, b) => b[1] - a[1])
    .map(([who, ppm]) => `  ${who}  ${(ppm / 10_000).toFixed(2)}%`);
  lines.push(`  unattributed  ${(r.unattributedPpm / 10_000).toFixed(2)}%`);
  return lines;
}

function humanAttribution(r: AttributionResult): string {
  const lines = [`methods: ${r.methods.join(', ')}   confidence: ${r.confidence}`, ...shareLines(r)];
  for (const s of r.spans) lines.push(`  span [${s.start}, ${s.end}) "${s.text}" ← ${s.contributionIds.join(', ')}`);
  return lines.join('\n');
}

export async function indexBuild(o: { corpus: string; out: string; model?: string }, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const tokenizer = tokenizerFor(o.model);
  const rows = readCorpus(o.corpus);
  const started = performance.now();
  const data = buildSpanIndexFromTexts({
    documents: rows.map((r) => ({ contributionId: r.id, contributor: r.contributor, text: r.text })),
    tokenizer,
  });
  const written = await writeSpanIndex(data, o.out);
  const result = {
    dir: o.out,
    tokenizer: tokenizer.id,
    documents: rows.length,
    tokens: data.sa.length,
    bytes: written.bytes,
    buildMs: Math.round(performance.now() - started),
  };
  out.result(result, () => `Indexed ${result.documents} contributions (${result.tokens} tokens) into ${o.out}`);
}

export async function indexCount(o: { index: string; text: string; model?: string }, cmd: Command) {
  const idx = await openSpanIndex({ dir: o.index, tokenizer: tokenizerFor(o.model) });
  const count = await idx.countText(o.text);
  createOutput(isJson(cmd)).result({ count }, () => String(count));
}

export interface AttributeOptions {
  corpus?: string;
  index?: string;
  text?: string;
  prompt?: string;
  method: string;
  model?: string;
  trainingReceipt?: string;
  request?: string;
  verify?: boolean;
  message?: string;
  api?: string;
}

/** The prompt of a served answer to verify: --prompt as given, or --message as the chat template shows it. */
function promptOf(o: AttributeOptions): string | undefined {
  if (o.prompt !== undefined) return o.message === undefined ? o.prompt : undefined;
  return o.message === undefined ? undefined : formatChat([{ role: 'user', content: o.message }]);
}

export async function attribute(o: AttributeOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  let result: AttributionResult;
  if (o.request && o.verify) {
    const prompt = promptOf(o);
    if (o.text === undefined || prompt === undefined)
      throw new BaseError(
        'INVALID_ARGUMENT',
        'To verify a served answer pass its --text and one of --message or --prompt',
        {
          details: { field: o.text === undefined ? '--text' : '--message' },
        },
      );
    const audit = createAttributionAudit(publicApi(o).baseUrl);
    try {
      const r = await audit.verify({
        requestId: o.request,
        prompt,
        output: o.text,
        ...(o.trainingReceipt ? { trainingReceipt: o.trainingReceipt } : {}),
      });
      const summary = {
        requestId: r.requestId,
        matches: r.matches,
        matchesReceipt: r.matchesReceipt,
        firstDifference: r.firstDifference,
      };
      out.result(summary, () =>
        r.matches && r.matchesReceipt
          ? `Recomputed from public data: identical to what the node stored and signed (${r.stored.methods.join(', ')})`
          : `MISMATCH: recomputed differs from the stored attribution at byte ${r.firstDifference}; stored matches receipt: ${r.matchesReceipt}`,
      );
      if (!(r.matches && r.matchesReceipt)) process.exitCode = exitCodeByCode.CONFLICT;
    } finally {
      await audit.dispose();
    }
    return;
  }
  if (o.request) {
    result = (await publicApi(o).call(settlementApi.getAttribution, { params: { requestId: o.request } })).attribution;
  } else {
    if (!o.corpus || o.text === undefined)
      throw new BaseError('INVALID_ARGUMENT', 'Pass --corpus FILE and --text TEXT, or --request ID', {
        details: { field: o.corpus ? '--text' : '--corpus' },
      });
    const tokenizer = tokenizerFor(o.model);
    const rows = readCorpus(o.corpus);
    const gradient = o.trainingReceipt
      ? await gradientScorerFromNode(publicApi(o).baseUrl, o.trainingReceipt, rows)
      : undefined;
    // `all` means every method this corpus and model support; naming gradient without gradients is an error.
    const methods = parseMethods(o.method).filter((m) => o.method !== 'all' || m !== 'gradient' || gradient);
    const attributor = createCorpusAttributor({
      rows,
      tokenizer,
      ...(o.index ? { spanIndex: await openSpanIndex({ dir: o.index, tokenizer }) } : {}),
    });
    try {
      result = await attributor.attribute({
        output: o.text,
        ...(o.prompt ? { prompt: o.prompt } : {}),
        methods,
        ...(gradient ? { gradient: gradient.score } : {}),
      });
    } finally {
      gradient?.dispose();
    }
  }
  if (out.json) process.stdout.write(`${serializeAttribution(result)}\n`);
  else out.result(result, () => humanAttribution(result));
}
