/** The actions of `tributary model …` (the commands are defined in model.ts). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type Address, type Hex, parseUnits } from 'viem';
import { BaseError } from '../../core/index.js';
import { baseModelFromGguf, bundledBaseModel, peftToGgufAdapter } from '../../engine/index.js';
import {
  createFactoryClient,
  type FineTuneMetrics,
  type FineTuneResult,
  publishInputOf,
  publishModelOnChain,
} from '../../factory/index.js';
import { isJson } from '../options.js';
import { createOutput } from '../output.js';
import { createProgress } from '../progress.js';
import { connectRemote, type RemoteOptions, signerFrom } from '../remote.js';

const numberOption = (name: string, value: string | undefined, integer = true): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new BaseError(
      'INVALID_ARGUMENT',
      `Invalid ${name} "${value}": expected ${integer ? 'an integer' : 'a number'}`,
      { details: { field: name } },
    );
  }
  return n;
};

function formatMetrics(m: FineTuneMetrics): string {
  const pct = (x: number | null) => (x === null ? 'n/a' : `${Math.round(x * 100)}%`);
  return [
    `  steps ${m.steps} on ${m.trainExamples} examples (${m.evalExamples} held out), ${m.tokensPerSec} tokens/s, ${m.seconds} s`,
    `  loss ${m.lossFirst.toFixed(3)} → ${m.lossLast.toFixed(3)}; held-out loss ${m.evalLoss?.toFixed(3) ?? 'n/a'} (perplexity ${m.perplexity?.toFixed(1) ?? 'n/a'})`,
    `  exact match: held-out ${pct(m.exactMatch)}, training ${pct(m.trainExactMatch)}; llama.cpp parity ${m.parityMaxAbsDiff.toExponential(1)}`,
  ].join('\n');
}

export async function train(o: RemoteOptions & Record<string, string | boolean | undefined>, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const factory = createFactoryClient((await connectRemote(o)).api);
  const hyper = Object.fromEntries(
    (
      [
        ['rank', numberOption('--rank', o.rank as string | undefined)],
        ['alpha', numberOption('--alpha', o.alpha as string | undefined, false)],
        ['steps', numberOption('--steps', o.steps as string | undefined)],
        ['epochs', numberOption('--epochs', o.epochs as string | undefined, false)],
        ['batchSize', numberOption('--batch', o.batch as string | undefined)],
        ['seqLen', numberOption('--seq-len', o.seqLen as string | undefined)],
        ['learningRate', numberOption('--lr', o.lr as string | undefined, false)],
        ['seed', numberOption('--seed', o.seed as string | undefined)],
      ] as const
    ).filter(([, v]) => v !== undefined),
  );
  const job = await factory.submit({
    name: o.name,
    dataNetId: String(o.datanet),
    dataNetVersion: numberOption('--version', o.version as string),
    ...(o.base ? { baseModel: o.base } : {}),
    hyper,
  });
  if (o.follow === false) {
    out.result(job, () => `Queued fine-tune job ${job.id}; follow with: tributary model status ${job.id}`);
    return;
  }
  out.note(`Fine-tune job ${job.id} queued`);
  let bar: ReturnType<typeof createProgress> | undefined;
  const final = await factory.follow(job.id, (type, data) => {
    const p = data as {
      step?: number;
      totalSteps?: number;
      loss?: number;
      tokensPerSec?: number;
      etaSeconds?: number;
      phase?: string;
    } | null;
    if (type === 'progress' && p?.totalSteps) {
      bar ??= createProgress('training', p.totalSteps, !out.json);
      bar.update(
        p.step ?? 0,
        `loss ${p.loss?.toFixed(3) ?? '…'} ${p.tokensPerSec ?? '…'} tok/s ETA ${p.etaSeconds ?? '…'}s${p.phase === 'evaluating' ? ' (evaluating)' : ''}`,
      );
    }
  });
  bar?.finish();
  if (final.status !== 'succeeded') {
    throw new BaseError(
      final.error?.code === 'INVALID_ARGUMENT' ? 'INVALID_ARGUMENT' : 'INTERNAL',
      `Fine-tune job ${final.id} ${final.status}: ${final.error?.message ?? ''}`,
      {
        details: { jobId: final.id },
      },
    );
  }
  const r = final.result as FineTuneResult;
  out.result(final, () =>
    [
      `Fine-tuned "${r.name}" (job ${final.id}): adapter ${r.adapter.sha256}`,
      formatMetrics(r.metrics),
      `  publish: tributary model publish ${final.id} --price-in 0.001 --price-out 0.002`,
    ].join('\n'),
  );
}

export async function status(id: string, o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const job = await createFactoryClient((await connectRemote(o)).api).job(id);
  out.result(
    job,
    () =>
      `Job ${job.id} (${job.request.name}): ${job.status}\n  progress ${JSON.stringify(job.progress)}${job.error ? `\n  error: ${job.error.message}` : ''}`,
  );
}

export async function evaluate(id: string, o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const job = await createFactoryClient((await connectRemote(o)).api).job(id);
  if (job.status !== 'succeeded' || !job.result)
    throw new BaseError('CONFLICT', `Job ${id} has not finished (${job.status})`, { details: { jobId: id } });
  out.result(
    job.result.metrics,
    () => `Evaluation of "${job.request.name}" (job ${id}):\n${formatMetrics(job.result?.metrics as FineTuneMetrics)}`,
  );
}

export async function publish(
  jobId: string | undefined,
  o: RemoteOptions & { priceIn: string; priceOut: string; adapter?: string; name?: string; receipt?: string },
  cmd: Command,
) {
  const out = createOutput(isJson(cmd));
  const remote = await connectRemote(o);
  const owner = signerFrom(o);
  const prices = { priceInPer1k: parseUnits(o.priceIn, 18), priceOutPer1k: parseUnits(o.priceOut, 18) };
  const factory = createFactoryClient(remote.api);
  let input: ReturnType<typeof publishInputOf>;
  if (jobId) {
    const job = await factory.job(jobId);
    if (job.status !== 'succeeded' || !job.result)
      throw new BaseError('CONFLICT', `Job ${jobId} has not finished (${job.status})`, { details: { jobId } });
    input = publishInputOf(job.result, prices);
  } else {
    if (!o.adapter || !o.name)
      throw new BaseError('INVALID_ARGUMENT', 'Give a job id, or --adapter and --name for an imported adapter', {
        details: { field: 'jobId' },
      });
    const [base] = await factory.baseModels();
    input = {
      name: o.name,
      baseModelHash: (base?.sha256 ?? '0x') as Hex,
      adapterHash: o.adapter as Hex,
      dataNet: null,
      configHash: `0x${'00'.repeat(32)}`,
      receiptCid: o.receipt ?? '',
      ...prices,
    };
  }
  const published = await publishModelOnChain(remote.clients, owner, remote.contracts.ModelRegistry as Address, input);
  out.result(
    {
      modelId: published.modelId.toString(),
      name: input.name,
      owner: owner.address,
      txHash: published.transactionHash,
      adapterHash: input.adapterHash,
    },
    () =>
      `Published model ${published.modelId} "${input.name}" owned by ${owner.address}\n  adapter ${input.adapterHash}${input.dataNet ? `\n  trained on DataNet ${input.dataNet.id} version ${input.dataNet.version} (root ${input.dataNet.root})` : ''}`,
  );
}

export async function list(o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const { items } = await (await connectRemote(o)).api.request<{
    items: {
      id: string;
      name: string;
      owner: string;
      priceInPer1k: string;
      priceOutPer1k: string;
      active: boolean;
    }[];
  }>('GET', '/v1/registry/models');
  out.result({ items }, () =>
    items.length === 0
      ? 'No models registered yet.'
      : items
          .map((m) => `${m.id.padStart(4)}  ${m.name}  owner ${m.owner}${m.active ? '' : '  (inactive)'}`)
          .join('\n'),
  );
}

export async function show(ref: string, o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const { api } = await connectRemote(o);
  const m = await api.request<{
    id: string;
    name: string;
    owner: string;
    latest: { receiptCid: string; adapterHash: string; dataNetId: string | null; dataNetRoot: string | null };
  }>('GET', `/v1/registry/models/${encodeURIComponent(ref)}`);
  let receipt: unknown = null;
  if (m.latest.receiptCid.startsWith('b'))
    receipt = await (await api.raw('GET', `/v1/blobs/${m.latest.receiptCid}`)).json().catch(() => null);
  out.result(
    { ...m, receipt },
    () =>
      `Model ${m.id} "${m.name}" owned by ${m.owner}\n  adapter ${m.latest.adapterHash}\n  DataNet ${m.latest.dataNetId ?? 'none'} root ${m.latest.dataNetRoot ?? '-'}\n  receipt ${m.latest.receiptCid}`,
  );
}

export async function importPeft(o: RemoteOptions & { dir: string; name: string }, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const read = (f: string) => {
    try {
      return readFileSync(join(o.dir, f));
    } catch {
      throw new BaseError('NOT_FOUND', `No ${f} in ${o.dir}`, { details: { file: join(o.dir, f) } });
    }
  };
  const base = baseModelFromGguf(new Uint8Array(readFileSync(bundledBaseModel.path))).weights.config;
  const converted = peftToGgufAdapter({
    config: read('adapter_config.json').toString('utf8'),
    safetensors: new Uint8Array(read('adapter_model.safetensors')),
    base,
    name: o.name,
  });
  const { api } = await connectRemote(o);
  const res = await fetch(`${api.baseUrl}/v1/blobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.from(converted.gguf),
  });
  if (!res.ok) throw new BaseError('NODE_UNAVAILABLE', `Uploading the adapter failed with HTTP ${res.status}`);
  const stored = (await res.json()) as { cid: string; sha256: string };
  out.result(
    { adapterCid: stored.cid, adapterHash: stored.sha256, bytes: converted.gguf.length },
    () =>
      `Imported "${o.name}": adapter ${stored.sha256} (${stored.cid})\n  publish: tributary model publish --adapter ${stored.sha256} --name ${o.name} --price-in 0.001 --price-out 0.002`,
  );
}
