/**
 * The user side of DataNets: calling a node's DataNet routes, preparing and signing rows as a contributor or
 * decisions as a curator, and the registry transactions owners and curators send with their own keys.
 */
import { type Account, type Address, type Hex, type LocalAccount, parseEventLogs } from 'viem';
import { type ChainClients, DataNetRegistryArtifact, OpenTokenArtifact, sendTx } from '../chain/index.js';
import { BaseError } from '../core/index.js';
import {
  type ContributionView,
  type DataNetView,
  datanetsApi,
  type NodeClient,
  type VersionView,
  type WithdrawalView,
} from '../protocol/index.js';
import type { ReviewSubmission } from './curation.js';
import type { Submission } from './ingest.js';
import { type DataNetMetadata, metadataCommitments, parseMetadata } from './metadata.js';
import type { ParsedRow, RowError } from './parse.js';
import { prepareRow } from './rows.js';
import { type DataNetDomain, newNonce, reasonHashOf, signDataNetMessage } from './signatures.js';
import type { WithdrawalRequest } from './withdrawal.js';

/** What the DataNet routes answer, decoded (ids and amounts as bigint, times as Date): the protocol's types. */
export type DataNetJson = DataNetView;
export type ContributionJson = ContributionView;
export type VersionJson = VersionView;
export type WithdrawalJson = WithdrawalView;

export function createDataNetClient(node: NodeClient) {
  const params = (id: bigint) => ({ params: { id } });
  return {
    register: (dataNetId: bigint, metadata: DataNetMetadata) =>
      node.call(datanetsApi.registerDataNet, { body: { dataNetId, metadata } }),
    list: async () => (await node.call(datanetsApi.listDataNets)).items,
    get: (id: bigint) => node.call(datanetsApi.getDataNet, params(id)),
    submit: async (id: bigint, contributions: Submission[]) =>
      (await node.call(datanetsApi.submitContributions, { ...params(id), body: { contributions } })).results,
    /** A page of contributions; `after` is the previous page's `next`. */
    contributions: async (
      id: bigint,
      q: { status?: ContributionView['status']; after?: bigint | string; limit?: number } = {},
    ) => {
      const { after, ...rest } = q;
      const page = await node.call(datanetsApi.listContributions, {
        ...params(id),
        query: { ...rest, ...(after === undefined ? {} : { after: BigInt(after) }) },
      });
      // `next` stays the decimal string it was before the client decoded answers (the CLI pages with it).
      return { items: page.items, next: page.next?.toString() ?? null };
    },
    review: async (id: bigint, reviews: ReviewSubmission[]) =>
      (await node.call(datanetsApi.submitReviews, { ...params(id), body: { reviews } })).results,
    auditLog: async (id: bigint) => (await node.call(datanetsApi.listReviews, params(id))).items,
    prepareVersion: (id: bigint) => node.call(datanetsApi.prepareVersion, params(id)),
    version: (id: bigint, version: number) => node.call(datanetsApi.getVersion, { params: { id, version } }),
    versions: async (id: bigint) => (await node.call(datanetsApi.listVersions, params(id))).items,
    manifest: (id: bigint, version: number) => node.call(datanetsApi.getManifest, { params: { id, version } }),
    /** The version's export as JSON lines. */
    exportVersion: async (id: bigint, version: number) =>
      (await node.open(datanetsApi.exportVersion, { params: { id, version } })).text(),
    contribution: (contributionId: Hex) => node.call(datanetsApi.getContribution, { params: { contributionId } }),
    content: (contributionId: Hex) => node.call(datanetsApi.getContributionContent, { params: { contributionId } }),
    proof: (contributionId: Hex, version?: number) =>
      node.call(datanetsApi.getProof, { params: { contributionId }, ...(version ? { query: { version } } : {}) }),
    withdraw: (contributionId: Hex, request: WithdrawalRequest) =>
      node.call(datanetsApi.withdrawContribution, { params: { contributionId }, body: request }),
  };
}

export type DataNetClient = ReturnType<typeof createDataNetClient>;

const inADay = () => BigInt(Math.floor(Date.now() / 1000) + 86_400);

/**
 * Runs parsed rows through the DataNet's pipeline and signs each prepared row; rows the pipeline refuses come
 * back as errors (with their line), so a contributor sees every problem before anything is sent.
 */
export async function signContributions(
  rows: ParsedRow[],
  o: {
    metadata: DataNetMetadata;
    dataNetId: bigint;
    licenseId: Hex;
    signer: LocalAccount;
    domain: DataNetDomain;
    source?: string;
    deadline?: bigint;
  },
): Promise<{ submissions: Submission[]; lines: number[]; errors: RowError[] }> {
  const submissions: Submission[] = [];
  const lines: number[] = [];
  const errors: RowError[] = [];
  const deadline = o.deadline ?? inADay();
  for (const r of rows) {
    const p = prepareRow(r.line, r.data, o.metadata.schema, o.metadata.policy);
    if (!p.ok) {
      errors.push(p.error);
      continue;
    }
    const nonce = newNonce();
    const signature = await signDataNetMessage(o.signer, o.domain, 'Contribution', {
      dataNetId: o.dataNetId,
      contentHash: p.row.contentHash,
      licenseId: o.licenseId,
      nonce,
      deadline,
    });
    submissions.push({
      contributor: o.signer.address,
      content: p.row.content,
      contentHash: p.row.contentHash,
      nonce: nonce.toString(),
      deadline: deadline.toString(),
      signature,
      ...(o.source ? { source: `${o.source}:${r.line}` } : {}),
    });
    lines.push(r.line);
  }
  return { submissions, lines, errors };
}

export async function signReview(
  curator: LocalAccount,
  domain: DataNetDomain,
  r: { dataNetId: bigint; contributionId: Hex; approve: boolean; spam?: boolean; reason: string; deadline?: bigint },
): Promise<ReviewSubmission> {
  const nonce = newNonce();
  const deadline = r.deadline ?? inADay();
  const spam = r.spam === true;
  const signature = await signDataNetMessage(curator, domain, 'Review', {
    dataNetId: r.dataNetId,
    contributionId: r.contributionId,
    approve: r.approve,
    spam,
    reasonHash: reasonHashOf(r.reason),
    nonce,
    deadline,
  });
  return {
    contributionId: r.contributionId,
    approve: r.approve,
    spam,
    reason: r.reason,
    curator: curator.address,
    nonce: nonce.toString(),
    deadline: deadline.toString(),
    signature,
  };
}

export async function signWithdrawal(
  contributor: LocalAccount,
  domain: DataNetDomain,
  w: { dataNetId: bigint; contributionId: Hex; deadline?: bigint },
): Promise<WithdrawalRequest> {
  const nonce = newNonce();
  const deadline = w.deadline ?? inADay();
  const signature = await signDataNetMessage(contributor, domain, 'Withdrawal', {
    dataNetId: w.dataNetId,
    contributionId: w.contributionId,
    nonce,
    deadline,
  });
  return { nonce: nonce.toString(), deadline: deadline.toString(), signature };
}

const registryCall = (registry: Address) =>
  ({ address: registry, abi: DataNetRegistryArtifact.abi, contract: 'DataNetRegistry' }) as const;

/** Creates the DataNet on chain (the owner pays the gas) and returns its id. */
export async function createDataNetOnChain(
  clients: ChainClients,
  owner: Account,
  registry: Address,
  metadataInput: unknown,
  o: { bondAmount?: bigint; forfeitBps?: number; treasury?: Address } = {},
): Promise<{ dataNetId: bigint; metadata: DataNetMetadata }> {
  const metadata = parseMetadata(metadataInput);
  const c = metadataCommitments(metadata);
  const receipt = await sendTx(clients, owner, {
    ...registryCall(registry),
    functionName: 'createDataNet',
    args: [
      c.metadataCID,
      c.schemaHash,
      c.licenseId,
      o.bondAmount ?? 0n,
      o.forfeitBps ?? 0,
      o.treasury ?? owner.address,
    ],
  });
  const [event] = parseEventLogs({ abi: DataNetRegistryArtifact.abi, logs: receipt.logs, eventName: 'DataNetCreated' });
  if (!event)
    throw new BaseError('INTERNAL', 'DataNetCreated event missing from the receipt', {
      details: { registry, transactionHash: receipt.transactionHash },
    });
  return { dataNetId: event.args.dataNetId, metadata };
}

export async function addCuratorOnChain(
  clients: ChainClients,
  owner: Account,
  registry: Address,
  dataNetId: bigint,
  curator: Address,
) {
  return sendTx(clients, owner, { ...registryCall(registry), functionName: 'addCurator', args: [dataNetId, curator] });
}

export async function removeCuratorOnChain(
  clients: ChainClients,
  owner: Account,
  registry: Address,
  dataNetId: bigint,
  curator: Address,
) {
  return sendTx(clients, owner, {
    ...registryCall(registry),
    functionName: 'removeCurator',
    args: [dataNetId, curator],
  });
}

/** A prepared version to commit: what DataNetClient.prepareVersion answers (the DataNet id as bigint or decimal). */
export type VersionToCommit = Pick<VersionView, 'version' | 'root' | 'count' | 'manifestCid'> &
  Partial<Omit<VersionView, 'dataNetId' | 'committedBlock'>> & {
    dataNetId: bigint | string;
    committedBlock?: bigint | string | null;
  };

/** Commits a prepared version (see DataNetClient.prepareVersion) on chain. */
export async function commitVersionOnChain(
  clients: ChainClients,
  curator: Account,
  registry: Address,
  v: VersionToCommit,
) {
  return sendTx(clients, curator, {
    ...registryCall(registry),
    functionName: 'commitVersion',
    args: [BigInt(v.dataNetId), BigInt(v.version), v.root, BigInt(v.count), v.manifestCid],
  });
}

export async function depositBondOnChain(
  clients: ChainClients,
  contributor: Account,
  token: Address,
  registry: Address,
  dataNetId: bigint,
  amount: bigint,
) {
  await sendTx(clients, contributor, {
    address: token,
    abi: OpenTokenArtifact.abi,
    contract: 'OpenToken',
    functionName: 'approve',
    args: [registry, amount],
  });
  return sendTx(clients, contributor, {
    ...registryCall(registry),
    functionName: 'depositBond',
    args: [dataNetId, amount],
  });
}

/** A contribution as its contributor signed it: what DataNetRegistry.forfeitBond checks before forfeiting. */
export interface SignedContribution {
  contributor: Address;
  contentHash: Hex;
  nonce: bigint;
  deadline: bigint;
  signature: Hex;
}

/** The signed contribution of a contribution read from the node (GET /v1/contributions/:id). */
export const signedContributionOf = (c: ContributionView): SignedContribution => ({
  contributor: c.contributor,
  contentHash: c.contentHash,
  nonce: c.nonce,
  deadline: c.deadline,
  signature: c.signature,
});

/**
 * Forfeits part of the contributor's bond for a contribution rejected as spam (owner or curator). The chain checks
 * the contributor's own signature of the contribution and forfeits each contribution at most once.
 */
export async function forfeitBondOnChain(
  clients: ChainClients,
  curator: Account,
  registry: Address,
  dataNetId: bigint,
  contribution: SignedContribution,
  reason: string,
) {
  const c = contribution;
  return sendTx(clients, curator, {
    ...registryCall(registry),
    functionName: 'forfeitBond',
    args: [dataNetId, c.contributor, c.contentHash, c.nonce, c.deadline, c.signature, reasonHashOf(reason)],
  });
}
