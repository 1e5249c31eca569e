/** The user side of ModelFactory: starting and following fine-tunes, and publishing models on chain. */
import { type Account, type Address, type Hex, parseEventLogs } from 'viem';
import { type ChainClients, ModelRegistryArtifact, sendTx } from '../chain/index.js';
import { type ApiClient, BaseError } from '../core/index.js';
import type { FineTuneResult } from './finetune.js';
import { assertModelName } from './names.js';
import type { BaseModelInfo, JobView } from './service.js';

export function createFactoryClient(api: ApiClient) {
  return {
    submit: (request: unknown) => api.request<JobView>('POST', '/v1/factory/jobs', request),
    job: (id: string) => api.request<JobView>('GET', `/v1/factory/jobs/${id}`),
    list: async () => (await api.request<{ items: JobView[] }>('GET', '/v1/factory/jobs')).items,
    cancel: (id: string) => api.request<JobView>('POST', `/v1/factory/jobs/${id}/cancel`),
    baseModels: async () => (await api.request<{ items: BaseModelInfo[] }>('GET', '/v1/factory/base-models')).items,
    /** Follows a job's server-sent events until it ends; returns its final state. */
    async follow(id: string, onEvent: (type: string, data: unknown) => void = () => {}): Promise<JobView> {
      const res = await api.raw('GET', `/v1/factory/jobs/${id}/events`);
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
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data !== undefined) onEvent(event, JSON.parse(data) as unknown);
            cut = buffer.indexOf('\n\n');
          }
        }
      }
      return api.request<JobView>('GET', `/v1/factory/jobs/${id}`);
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
  const zero = `0x${'00'.repeat(32)}` as Hex;
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
        dataNetRoot: p.dataNet?.root ?? zero,
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
