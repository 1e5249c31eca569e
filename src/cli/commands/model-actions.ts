/** The actions of `tributary model …` (the commands are defined in model.ts). */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { parseUnits, zeroHash } from 'viem';
import { BaseError } from '../../core/index.js';
import { createDataNetClient } from '../../datanets/index.js';
import { peftToGgufAdapter } from '../../engine/index.js';
import { createFactoryClient, type FineTuneMetrics, publishInputOf, publishModelOnChain } from '../../factory/index.js';
import {
  bytes32,
  factoryApi,
  nodeApi,
  openloraApi,
  type TrainingReceipt,
  trainingReceiptOf,
} from '../../protocol/index.js';
import { isJson } from '../options.js';
import { createOutput } from '../output.js';
import { createProgress } from '../progress.js';
import { connectRemote, operatorApi, publicApi, type RemoteOptions, signerFrom, storeBlob } from '../remote.js';

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

export interface TrainOptions extends RemoteOptions {
  datanet: string;
  version: string;
  name: string;
  base?: string;
  preset?: 'facts' | 'style' | 'continue';
  rank?: string;
  alpha?: string;
  steps?: string;
  epochs?: string;
  batch?: string;
  seqLen?: string;
  lr?: string;
  seed?: string;
  /** false with --no-follow */
  follow: boolean;
}

export async function train(o: TrainOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const factory = createFactoryClient((await connectRemote(o)).api);
  const hyper = Object.fromEntries(
    (
      [
        ['rank', numberOption('--rank', o.rank)],
        ['alpha', numberOption('--alpha', o.alpha, false)],
        ['steps', numberOption('--steps', o.steps)],
        ['epochs', numberOption('--epochs', o.epochs, false)],
        ['batchSize', numberOption('--batch', o.batch)],
        ['seqLen', numberOption('--seq-len', o.seqLen)],
        ['learningRate', numberOption('--lr', o.lr, false)],
        ['seed', numberOption('--seed', o.seed)],
      ] as const
    ).filter(([, v]) => v !== undefined),
  );
  const job = await factory.submit({
    name: o.name,
    dataNetId: o.datanet,
    dataNetVersion: numberOption('--version', o.version),
    ...(o.base ? { baseModel: o.base } : {}),
    ...(o.preset ? { preset: o.preset } : {}),
    hyper,
  });
  if (o.follow === false) {
    out.result(job, () => `Queued fine-tune job ${job.id}; follow with: tributary model status ${job.id}`);
    return;
  }
  out.note(`Fine-tune job ${job.id} queued`);
  let bar: ReturnType<typeof createProgress> | undefined;
  const final = await factory.follow(job.id, (type, p) => {
    if (type === 'progress' && p !== null && 'totalSteps' in p && p.totalSteps) {
      bar ??= createProgress('training', p.totalSteps, !out.json);
      bar.update(
        p.step ?? 0,
        `loss ${p.loss?.toFixed(3) ?? '…'} ${p.tokensPerSec ?? '…'} tok/s ETA ${p.etaSeconds ?? '…'}s${p.phase === 'evaluating' ? ' (evaluating)' : ''}`,
      );
    }
  });
  bar?.finish();
  const r = final.result;
  if (final.status !== 'succeeded' || !r) {
    throw new BaseError(
      final.error?.code === 'INVALID_ARGUMENT' ? 'INVALID_ARGUMENT' : 'INTERNAL',
      `Fine-tune job ${final.id} ${final.status}: ${final.error?.message ?? ''}`,
      {
        details: { jobId: final.id.toString() },
      },
    );
  }
  out.result(final, () =>
    [
      `Fine-tuned "${r.name}" (job ${final.id}): adapter ${r.adapter.sha256}`,
      formatMetrics(r.metrics),
      heldOutLine(r.heldOut ?? []),
      `  publish: tributary model publish ${final.id} --price-in 0.001 --price-out 0.002`,
    ].join('\n'),
  );
}

/** Which rows were held out of training: the model never saw them, so it cannot answer what only they teach. */
function heldOutLine(ids: readonly string[]): string {
  if (ids.length === 0) return '  trained on every row (nothing held out)';
  const shown = ids.slice(0, 5).join(', ');
  return `  held out of training (evaluation only), ${ids.length} row${ids.length === 1 ? '' : 's'}: ${shown}${ids.length > 5 ? ', …' : ''}`;
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
  const metrics = job.status === 'succeeded' ? job.result?.metrics : undefined;
  if (!metrics)
    throw new BaseError('CONFLICT', `Job ${id} has not finished (${job.status})`, { details: { jobId: id } });
  out.result(metrics, () => `Evaluation of "${job.request.name}" (job ${id}):\n${formatMetrics(metrics)}`);
}

export interface PublishOptions extends RemoteOptions {
  priceIn: string;
  priceOut: string;
  adapter?: string;
  name?: string;
  receipt?: string;
  base?: string;
  datanet?: string;
  version?: string;
}

/** A base model on the node by name or sha-256 (the bundled one when `ref` is undefined); NOT_FOUND names those known. */
async function nodeBase(factory: ReturnType<typeof createFactoryClient>, ref: string | undefined) {
  const bases = await factory.baseModels();
  const base = ref === undefined ? bases.find((b) => b.bundled) : bases.find((b) => b.name === ref || b.sha256 === ref);
  if (!base) {
    throw new BaseError(
      'NOT_FOUND',
      `Unknown base model "${ref}": the node has ${bases.map((b) => b.name).join(', ')} (register one with tributary model base add)`,
      { details: { field: '--base', known: bases.map((b) => b.name) } },
    );
  }
  return base;
}

/** `--datanet ID --version N` of an imported adapter: the version's root as the node holds it (the registry checks it). */
async function importedLineage(api: Parameters<typeof createDataNetClient>[0], o: PublishOptions) {
  if (o.datanet === undefined && o.version === undefined) return null;
  if (!o.datanet || !o.version || !/^\d+$/.test(o.datanet) || !/^[1-9]\d*$/.test(o.version)) {
    throw new BaseError('INVALID_ARGUMENT', 'Give --datanet ID and --version N together, as positive integers', {
      details: { field: o.datanet ? '--version' : '--datanet' },
    });
  }
  const v = await createDataNetClient(api).version(BigInt(o.datanet), Number(o.version));
  return { id: o.datanet, version: Number(o.version), root: v.root };
}

export async function publish(jobId: string | undefined, o: PublishOptions, cmd: Command) {
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
    const adapterHash = bytes32.safeParse(o.adapter);
    if (!adapterHash.success)
      throw new BaseError(
        'INVALID_ARGUMENT',
        `Invalid --adapter "${o.adapter}": expected its 0x sha-256 (64 hex digits)`,
        {
          details: { field: '--adapter' },
        },
      );
    const base = await nodeBase(factory, o.base);
    input = {
      name: o.name,
      baseModelHash: base.sha256,
      adapterHash: adapterHash.data,
      dataNet: await importedLineage(remote.api, o),
      configHash: zeroHash,
      receiptCid: o.receipt ?? '',
      ...prices,
    };
  }
  const published = await publishModelOnChain(remote.clients, owner, remote.contracts.ModelRegistry, input);
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
  const { items } = await (await connectRemote(o)).api.call(openloraApi.listRegisteredModels);
  out.result({ items }, () =>
    items.length === 0
      ? 'No models registered yet.'
      : items
          .map((m) => `${m.id.toString().padStart(4)}  ${m.name}  owner ${m.owner}${m.active ? '' : '  (inactive)'}`)
          .join('\n'),
  );
}

export async function show(ref: string, o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const { api } = await connectRemote(o);
  const m = await api.call(openloraApi.getRegisteredModel, { params: { model: ref } });
  // The training receipt the model names (null when it names none, or a provenance document of another kind).
  let receipt: TrainingReceipt | null = null;
  const cid = m.latest.receiptCid;
  if (cid.startsWith('b'))
    receipt = trainingReceiptOf(await (await api.open(nodeApi.getBlob, { params: { cid } })).text(), `receipt ${cid}`);
  out.result(
    { ...m, receipt },
    () =>
      `Model ${m.id} "${m.name}" owned by ${m.owner}\n  adapter ${m.latest.adapterHash}\n  DataNet ${m.latest.dataNetId ?? 'none'} root ${m.latest.dataNetRoot ?? '-'}\n  receipt ${m.latest.receiptCid}`,
  );
}

export interface ImportPeftOptions extends RemoteOptions {
  dir: string;
  name: string;
  base?: string;
}

export async function importPeft(o: ImportPeftOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const read = (f: string) => {
    try {
      return readFileSync(join(o.dir, f));
    } catch {
      throw new BaseError('NOT_FOUND', `No ${f} in ${o.dir}`, { details: { file: join(o.dir, f) } });
    }
  };
  const { api } = await connectRemote(o);
  // The adapter is converted here, for the shape (and RoPE layout) of the base the node holds under that name.
  const base = await nodeBase(createFactoryClient(api), o.base);
  const converted = peftToGgufAdapter({
    config: read('adapter_config.json').toString('utf8'),
    safetensors: new Uint8Array(read('adapter_model.safetensors')),
    base: base.config,
    name: o.name,
  });
  const stored = await storeBlob(api, converted.gguf);
  const onBase = base.bundled ? '' : ` --base ${base.name}`;
  out.result(
    { adapterCid: stored.cid, adapterHash: stored.sha256, bytes: converted.gguf.length, baseModel: base.name },
    () =>
      `Imported "${o.name}" for base ${base.name}: adapter ${stored.sha256} (${stored.cid})\n  publish: tributary model publish --adapter ${stored.sha256} --name ${o.name}${onBase} --price-in 0.001 --price-out 0.002 [--datanet ID --version N]`,
  );
}

/** One line per base model: name, architecture, size, tensor types, and what the node does with it. */
function baseLine(b: factoryApi.BaseModelInfo): string {
  const can = (what: string, c: { ok: boolean; reason?: string | undefined }) =>
    c.ok ? what : `no ${what}: ${c.reason}`;
  return [
    `${b.name}  ${b.architecture}  ${(b.params / 1e6).toFixed(1)}M params  ${b.tensorTypes.join('/')}  ${b.tokenizer} tokenizer  context ${b.config.contextLength}${b.bundled ? '  (bundled)' : ''}`,
    `  sha256 ${b.sha256}`,
    `  ${can('fine-tune', b.fineTune)}`,
    `  ${can('serve', b.serve)}`,
  ].join('\n');
}

export async function baseAdd(file: string, o: RemoteOptions & { name?: string }, cmd: Command) {
  const out = createOutput(isJson(cmd));
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new BaseError('NOT_FOUND', `Cannot read ${file}: ${(e as Error).message}`, { details: { file } });
  }
  const name =
    o.name ??
    basename(file)
      .replace(/\.gguf$/i, '')
      .toLowerCase();
  const info = await operatorApi(o, cmd).call(factoryApi.addBaseModel, { query: { name }, bytes });
  out.result(
    info,
    () => `Registered base model\n${baseLine(info)}\n  fine-tune on it: tributary model train --base ${info.name} …`,
  );
}

export async function baseList(o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const { items } = await publicApi(o).call(factoryApi.listBaseModels);
  out.result({ items }, () => items.map(baseLine).join('\n'));
}
