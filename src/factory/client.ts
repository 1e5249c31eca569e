/** The user side of ModelFactory: starting and following fine-tunes, and publishing models on chain. */
import { type Account, type Address, type Hex, parseEventLogs, zeroHash } from 'viem';
import type { z } from 'zod';
import { type ChainClients, ModelRegistryArtifact, sendTx } from '../chain/index.js';
import { BaseError } from '../core/index.js';
import { type FineTuneJob, factoryApi, type FineTuneJobEvent as JobEvent, type NodeClient } from '../protocol/index.js';
import type { FineTuneResult } from './finetune.js';
import { assertModelName } from './names.js';

/** Checks a request here, so a bad one fails naming its field the way the node would, before anything is sent. */
function requestBody(request: unknown): factoryApi.FineTuneRequestBody {
  const r = factoryApi.fineTuneRequestBody.safeParse(request);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ field: ['body', ...i.path].join('.'), message: i.message }));
  const first = issues[0];
  throw new BaseError('INVALID_ARGUMENT', `Invalid ${first?.field ?? 'body'}: ${first?.message ?? 'invalid'}`, {
    details: { issues },
  });
}

const isEventName = (e: string): e is JobEvent['event'] => Object.hasOwn(factoryApi.jobEventData, e);

/** One block of a server-sent event stream, its data decoded with the schema of its event. */
function decodeEvent(block: string): { event: JobEvent['event']; data: JobEvent['data'] } | undefined {
  const event = /^event: (.*)$/m.exec(block)?.[1];
  const data = /^data: (.*)$/m.exec(block)?.[1];
  if (event === undefined || data === undefined || !isEventName(event)) return undefined;
  const schema: z.ZodType<JobEvent['data']> = factoryApi.jobEventData[event];
  const decoded = schema.safeParse(JSON.parse(data));
  if (!decoded.success)
    throw new BaseError('INTERNAL', `The node's "${event}" event does not match its schema`, {
      details: { event, issues: decoded.error.issues.slice(0, 5) },
    });
  return { event, data: decoded.data };
}

export function createFactoryClient(node: NodeClient) {
  const params = (id: bigint | string) => ({ params: { id: BigInt(id) } });
  return {
    /** Starts a fine-tune (see FineTuneRequestBody; the node fills in the hyperparameters left out). */
    submit: (request: unknown) => node.call(factoryApi.submitJob, { body: requestBody(request) }),
    job: (id: bigint | string) => node.call(factoryApi.getJob, params(id)),
    list: async () => (await node.call(factoryApi.listJobs)).items,
    cancel: (id: bigint | string) => node.call(factoryApi.cancelJob, params(id)),
    baseModels: async () => (await node.call(factoryApi.listBaseModels)).items,
    /**
     * Follows a job's server-sent events until it ends; returns its final state. `onEvent` gets each event's name
     * and its data, decoded with the event's schema (see factoryApi.jobEventData).
     */
    async follow(
      id: bigint | string,
      onEvent: (type: JobEvent['event'], data: JobEvent['data']) => void = () => {},
    ): Promise<FineTuneJob> {
      const res = await node.open(factoryApi.jobEvents, params(id));
      const reader = res.body?.getReader();
      if (reader) {
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut = buffer.indexOf('\n\n');
          while (cut >= 0) {
            const e = decodeEvent(buffer.slice(0, cut));
            buffer = buffer.slice(cut + 2);
            if (e) onEvent(e.event, e.data);
            cut = buffer.indexOf('\n\n');
          }
        }
      }
      return node.call(factoryApi.getJob, params(id));
    },
  };
}

export type FactoryClient = ReturnType<typeof createFactoryClient>;

export interface PublishInput {
  name: string;
  baseModelHash: Hex;
  adapterHash: Hex;
  dataNet: { id: string; version: number; root: Hex } | null;
  configHash: Hex;
  receiptCid: string;
  priceInPer1k: bigint;
  priceOutPer1k: bigint;
}

/** The registry entry of a finished fine-tune. */
export function publishInputOf(
  result: FineTuneResult,
  prices: { priceInPer1k: bigint; priceOutPer1k: bigint },
): PublishInput {
  return {
    name: result.name,
    baseModelHash: result.baseModel.sha256,
    adapterHash: result.adapter.sha256,
    dataNet: result.dataNet,
    configHash: result.configHash,
    receiptCid: result.receiptCid,
    ...prices,
  };
}

/**
 * Registers the model on chain (the owner pays the gas and owns it); returns its id. A name ModelRegistry would
 * refuse (see names.ts) fails first, with INVALID_ARGUMENT naming the field.
 */
export async function publishModelOnChain(
  clients: ChainClients,
  owner: Account,
  registry: Address,
  p: PublishInput,
): Promise<{ modelId: bigint; transactionHash: Hex }> {
  assertModelName(p.name);
  const receipt = await sendTx(clients, owner, {
    address: registry,
    abi: ModelRegistryArtifact.abi,
    contract: 'ModelRegistry',
    functionName: 'registerModel',
    args: [
      p.name,
      p.baseModelHash,
      {
        adapterHash: p.adapterHash,
        dataNetId: p.dataNet ? BigInt(p.dataNet.id) : 0n,
        dataNetVersion: p.dataNet ? BigInt(p.dataNet.version) : 0n,
        dataNetRoot: p.dataNet?.root ?? zeroHash,
        configHash: p.configHash,
        receiptCID: p.receiptCid,
      },
      p.priceInPer1k,
      p.priceOutPer1k,
    ],
  });
  const [event] = parseEventLogs({ abi: ModelRegistryArtifact.abi, logs: receipt.logs, eventName: 'ModelRegistered' });
  if (!event) throw new BaseError('INTERNAL', 'ModelRegistered event missing from the receipt');
  return { modelId: event.args.modelId, transactionHash: receipt.transactionHash };
}
