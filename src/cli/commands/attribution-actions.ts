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
import { DataNetRegistryArtifact } from '../../chain/index.js';
import { BaseError, parseJson } from '../../core/index.js';
import { settlementApi } from '../../protocol/index.js';
import {
  type AuditChain,
  type AuditCheck,
  createAttributionAudit,
  gradientScorerFromNode,
} from '../attribution-audit.js';
import type { AskedRequest } from '../audit-request.js';
import { exitCodeByCode } from '../exit-codes.js';
import { isJson, readFlagFile } from '../options.js';
import { createOutput } from '../output.js';
import { connectRemote, publicApi } from '../remote.js';

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
  messages?: string;
  body?: string;
  context?: string;
  keptExport?: string;
  promptTokens?: string;
  api?: string;
  rpc?: string;
}

/** The request to verify, from exactly one of --body, --messages, --message and --prompt (and --context). */
function askedOf(o: AttributeOptions): AskedRequest {
  const flags = {
    body: '--body',
    messages: '--messages',
    message: '--message',
    prompt: '--prompt',
    promptTokens: '--prompt-tokens',
  } as const;
  const given = (Object.keys(flags) as (keyof typeof flags)[]).filter((k) => o[k] !== undefined).map((k) => flags[k]);
  if (given.length !== 1)
    throw new BaseError(
      'INVALID_ARGUMENT',
      'To verify a served answer pass its --text and one of --message or --prompt, or the request itself: --messages FILE, --body FILE or --prompt-tokens FILE (exactly one)',
      { details: { field: given[1] ?? '--body' } },
    );
  const json = (flag: '--body' | '--messages' | '--prompt-tokens', path: string) => {
    const parsed = parseJson(readFlagFile(path, flag));
    if (parsed.ok) return parsed.value;
    throw new BaseError(
      'INVALID_ARGUMENT',
      `${flag} ${path} is not JSON: ${parsed.reason} at line ${parsed.line}, column ${parsed.column}`,
      { details: { field: flag, file: path, line: parsed.line } },
    );
  };
  // The node's context block never ends with a newline; a file's last one is the editor's.
  const context = o.context === undefined ? {} : { context: readFlagFile(o.context, '--context').replace(/\n$/, '') };
  if (o.body !== undefined) return { body: json('--body', o.body), ...context };
  if (o.messages !== undefined) {
    const m = json('--messages', o.messages);
    // A request body's messages, or the messages alone.
    const messages = typeof m === 'object' && m !== null && 'messages' in m ? m.messages : m;
    return { messages, ...context };
  }
  if (o.message !== undefined) return { messages: [{ role: 'user', content: o.message }], ...context };
  if (o.promptTokens !== undefined) {
    const ids = json('--prompt-tokens', o.promptTokens);
    if (!Array.isArray(ids) || !ids.every((id) => Number.isInteger(id) && id >= 0))
      throw new BaseError('INVALID_ARGUMENT', `--prompt-tokens ${o.promptTokens} is not a JSON array of token ids`, {
        details: { field: '--prompt-tokens', file: o.promptTokens },
      });
    return { promptTokens: ids };
  }
  return { prompt: o.prompt ?? '' };
}

/** What the auditor reads on chain: the receipt domain and DataNetRegistry's committed versions. */
async function auditChainOf(o: AttributeOptions): Promise<AuditChain> {
  const remote = await connectRemote(o);
  return {
    receiptDomain: { chainId: remote.chainId, distributor: remote.contracts.RewardDistributor },
    committedVersion: async (dataNetId, version) => {
      const v = await remote.clients.public.readContract({
        address: remote.contracts.DataNetRegistry,
        abi: DataNetRegistryArtifact.abi,
        functionName: 'getVersion',
        args: [dataNetId, BigInt(version)],
      });
      return { root: v.root, count: v.count };
    },
  };
}

const checkLine = ([name, c]: [string, AuditCheck]) =>
  `  ${c.status === 'ok' ? '✓' : c.status === 'differs' ? '✗' : '?'} ${name}: ${c.status === 'ok' ? '' : `${c.status}: `}${c.detail}`;

/**
 * `attribute --request ID --verify`: every check the audit makes, by name. Exit 0 when all passed (requestHash may
 * be unchecked without --body: it says so); CONFLICT's code when one failed; NOT_FOUND's when the attribution could
 * not be recomputed (the text it was computed over is gone).
 */
async function verifyServed(o: AttributeOptions & { request: string }, cmd: Command) {
  const out = createOutput(isJson(cmd));
  if (o.text === undefined)
    throw new BaseError('INVALID_ARGUMENT', 'To verify a served answer pass its --text (the output served)', {
      details: { field: '--text' },
    });
  const asked = askedOf(o);
  const audit = createAttributionAudit(publicApi(o).baseUrl, { chain: await auditChainOf(o) });
  try {
    const r = await audit.verify({
      requestId: o.request,
      output: o.text,
      ...asked,
      ...(o.trainingReceipt ? { trainingReceipt: o.trainingReceipt } : {}),
      ...(o.keptExport ? { keptExport: readFlagFile(o.keptExport, '--kept-export') } : {}),
    });
    const checks = Object.entries(r.checks);
    const failed = checks.filter(([, c]) => c.status === 'differs').map(([n]) => n);
    const unchecked = checks.filter(([n, c]) => c.status === 'not checked' && n !== 'requestHash').map(([n]) => n);
    const verified = failed.length === 0 && unchecked.length === 0;
    const summary = {
      requestId: r.requestId,
      verified,
      matches: r.matches,
      matchesReceipt: r.matchesReceipt,
      firstDifference: r.firstDifference,
      checks: r.checks,
    };
    out.result(summary, () =>
      [
        verified
          ? `Verified ${r.requestId}: recomputed from public data, identical to what the node stored and signed`
          : failed.length > 0
            ? `MISMATCH in ${r.requestId}: ${failed.join(', ')}`
            : `NOT VERIFIED ${r.requestId}: could not check ${unchecked.join(', ')}`,
        ...checks.map(checkLine),
      ].join('\n'),
    );
    if (failed.length > 0) process.exitCode = exitCodeByCode.CONFLICT;
    else if (!verified) process.exitCode = exitCodeByCode.NOT_FOUND;
  } finally {
    await audit.dispose();
  }
}

export async function attribute(o: AttributeOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  let result: AttributionResult;
  if (o.request && o.verify) return verifyServed({ ...o, request: o.request }, cmd);
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
