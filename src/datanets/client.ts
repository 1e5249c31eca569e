/**
 * The user side of DataNets: calling a node's DataNet routes, preparing and signing rows as a contributor or
 * decisions as a curator, and the registry transactions owners and curators send with their own keys.
 */
import { type Account, type Address, type Hex, type LocalAccount, parseEventLogs } from 'viem';
import { type ChainClients, DataNetRegistryArtifact, OpenTokenArtifact, sendTx } from '../chain/index.js';
import { type ApiClient, BaseError } from '../core/index.js';
import type { ReviewResult, ReviewSubmission } from './curation.js';
import type { Submission, SubmissionResult } from './ingest.js';
import { type DataNetMetadata, metadataCommitments, parseMetadata } from './metadata.js';
import type { ParsedRow, RowError } from './parse.js';
import { prepareRow } from './rows.js';
import { type DataNetDomain, newNonce, reasonHashOf, signDataNetMessage } from './signatures.js';
import type { Manifest, Proof } from './versions.js';
import type { WithdrawalRequest } from './withdrawal.js';

/** JSON shapes of the DataNet routes (amounts and big ids as strings). */
export interface DataNetJson {
  id: string;
  owner: Address;
  treasury: Address;
  metadataCid: string;
  metadata: DataNetMetadata | null;
  schemaHash: Hex;
  licenseId: Hex;
  bondAmount: string;
  forfeitBps: number;
  curators: Address[];
  counts: Record<'pending' | 'approved' | 'rejected' | 'withdrawn', number>;
  latestVersion: number;
}
export interface ContributionJson {
  id: Hex;
  dataNetId: string;
  contributor: Address;
  contentHash: Hex;
  cid: string;
  licenseId: Hex;
  /** Decimal strings; with `signature`, the contributor's signed Contribution message (see forfeitBondOnChain). */
  nonce: string;
  deadline: string;
  signature: Hex;
  status: 'pending' | 'approved' | 'rejected' | 'withdrawn';
  bytes: number;
  redacted: Record<string, number>;
  source: string | null;
  createdAt: string;
  withdrawnAt: string | null;
  versions: number[];
  absentFromVersion: number | null;
}
export interface VersionJson {
  dataNetId: string;
  version: number;
  status: 'draft' | 'published';
  root: Hex;
  count: number;
  manifestCid: string;
  committedBlock: string | null;
  committedTx: Hex | null;
}
export interface WithdrawalJson {
  contributionId: Hex;
  withdrawnAt: string;
  absentFromVersion: number;
  lastVersionContaining: number | null;
}

export function createDataNetClient(api: ApiClient) {
  const base = (id: bigint | string) => `/v1/datanets/${id}`;
  return {
    register: (dataNetId: bigint, metadata: DataNetMetadata) =>
      api.request<DataNetJson>('POST', '/v1/datanets', { dataNetId: dataNetId.toString(), metadata }),
    list: async () => (await api.request<{ items: DataNetJson[] }>('GET', '/v1/datanets')).items,
    get: (id: bigint) => api.request<DataNetJson>('GET', base(id)),
    submit: async (id: bigint, contributions: Submission[]) =>
      (await api.request<{ results: SubmissionResult[] }>('POST', `${base(id)}/contributions`, { contributions }))
        .results,
    contributions: (id: bigint, q: { status?: ContributionJson['status']; after?: string; limit?: number } = {}) => {
      const qs = new URLSearchParams(Object.entries(q).map(([k, v]): [string, string] => [k, String(v)])).toString();
      return api.request<{ items: ContributionJson[]; next: string | null }>(
        'GET',
        `${base(id)}/contributions${qs ? `?${qs}` : ''}`,
      );
    },
    review: async (id: bigint, reviews: ReviewSubmission[]) =>
      (await api.request<{ results: ReviewResult[] }>('POST', `${base(id)}/reviews`, { reviews })).results,
    auditLog: async (id: bigint) => (await api.request<{ items: unknown[] }>('GET', `${base(id)}/reviews`)).items,
    prepareVersion: (id: bigint) => api.request<VersionJson>('POST', `${base(id)}/versions`),
    version: (id: bigint, version: number) => api.request<VersionJson>('GET', `${base(id)}/versions/${version}`),
    versions: async (id: bigint) => (await api.request<{ items: VersionJson[] }>('GET', `${base(id)}/versions`)).items,
    manifest: (id: bigint, version: number) => api.request<Manifest>('GET', `${base(id)}/versions/${version}/manifest`),
    exportVersion: async (id: bigint, version: number) =>
      (await api.raw('GET', `${base(id)}/versions/${version}/export`)).text(),
    contribution: (cid: Hex) => api.request<ContributionJson>('GET', `/v1/contributions/${cid}`),
    content: (cid: Hex) => api.request<Record<string, unknown>>('GET', `/v1/contributions/${cid}/content`),
    proof: (cid: Hex, version?: number) =>
      api.request<Proof>('GET', `/v1/contributions/${cid}/proof${version ? `?version=${version}` : ''}`),
    withdraw: (cid: Hex, request: WithdrawalRequest) =>
      api.request<WithdrawalJson>('POST', `/v1/contributions/${cid}/withdraw`, request),
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

/** Commits a prepared version (see DataNetClient.prepareVersion) on chain. */
export async function commitVersionOnChain(clients: ChainClients, curator: Account, registry: Address, v: VersionJson) {
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
export const signedContributionOf = (c: ContributionJson): SignedContribution => ({
  contributor: c.contributor,
  contentHash: c.contentHash,
  nonce: BigInt(c.nonce),
  deadline: BigInt(c.deadline),
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
