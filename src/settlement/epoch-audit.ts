/**
 * Auditing a posted epoch from public data, as a challenger does — on the auditor's machine (`tributary epoch
 * verify`) or on the node (its verify route), with the same function:
 *  - the chain says what was posted (payout root, total, receipts root, the export's content id);
 *  - the export is whatever bytes have that content id (fetched from the node's public blob store, or a file);
 *  - the export must be for this node, chain, distributor, registry and epoch; its parameters ProtocolConfig's and
 *    its stake snapshot Staking's, both at its stake block;
 *  - the previous epoch's cumulative payouts must be the ones its posted root commits to;
 *  - then `verifyEpochExport` recomputes every receipt's binding and the roots.
 */
import { type Address, getAddress, type Hex, isAddressEqual } from 'viem';
import { type ChainClients, type ContractName, merkleTree, RewardDistributorArtifact } from '../chain/index.js';
import { BaseError, canonicalJson, cidOf } from '../core/index.js';
import { parseEpochPayoutsExport } from '../protocol/index.js';
import { stakeSnapshot } from './epoch-compute.js';
import {
  type EpochReceiptsExport,
  type EpochVerification,
  parseEpochExport,
  verifyEpochExport,
} from './epoch-export.js';
import { readParams } from './params.js';
import { payoutLeaf } from './payouts.js';

/** Where an audit reads what the node published. */
export interface EpochSources {
  /** The bytes of the receipts export the chain names by `cid` (as text). */
  receiptsExport(cid: string): Promise<string>;
  /** The payouts export of epoch `epoch` (the one before the audited epoch), as text. */
  payoutsExport(epoch: number): Promise<string>;
}

export interface EpochAuditDeps {
  clients: ChainClients;
  chainId: number;
  contracts: Pick<
    Record<ContractName, Address>,
    'RewardDistributor' | 'ProtocolConfig' | 'DataNetRegistry' | 'Staking'
  >;
}

export type PostedEpoch = { payoutRoot: Hex; receiptsRoot: Hex; cumulativeTotal: bigint; receiptsCid: string };

export type EpochAudit = EpochVerification & { epoch: number; posted: PostedEpoch };

/** Node `node`'s epoch `epoch` as posted on chain; NOT_FOUND if it has not been posted. */
export async function postedEpoch(deps: EpochAuditDeps, node: Address, epoch: number): Promise<PostedEpoch> {
  const distributor = { address: deps.contracts.RewardDistributor, abi: RewardDistributorArtifact.abi } as const;
  const { epochCount } = await deps.clients.public.readContract({
    ...distributor,
    functionName: 'nodeState',
    args: [node],
  });
  if (BigInt(epoch) > epochCount || epoch < 1)
    throw new BaseError(
      'NOT_FOUND',
      `Epoch ${epoch} of node ${getAddress(node)} has not been posted (the chain has ${epochCount})`,
      { details: { epoch } },
    );
  const e = await deps.clients.public.readContract({
    ...distributor,
    functionName: 'getEpoch',
    args: [node, BigInt(epoch)],
  });
  return {
    payoutRoot: e.payoutRoot,
    receiptsRoot: e.receiptsRoot,
    cumulativeTotal: e.cumulativeTotal,
    receiptsCid: e.receiptsCID,
  };
}

/** The export's identity against the chain: whose sequence, which chain, distributor, registry and epoch. */
function identityProblems(deps: EpochAuditDeps, e: EpochReceiptsExport, node: Address, epoch: number): string[] {
  const problems: string[] = [];
  if (e.epoch !== epoch) problems.push(`receipts export: it is of epoch ${e.epoch}, not ${epoch}`);
  if (!isAddressEqual(e.node, node))
    problems.push(`receipts export: it is node ${e.node}'s, not ${getAddress(node)}'s`);
  if (e.chainId !== deps.chainId) problems.push(`receipts export: it is for chain ${e.chainId}, not ${deps.chainId}`);
  if (!isAddressEqual(e.distributor, deps.contracts.RewardDistributor))
    problems.push(`receipts export: its distributor ${e.distributor} is not ${deps.contracts.RewardDistributor}`);
  if (!isAddressEqual(e.dataNetRegistry, deps.contracts.DataNetRegistry))
    problems.push(
      `receipts export: its DataNet registry ${e.dataNetRegistry} is not ${deps.contracts.DataNetRegistry}`,
    );
  return problems;
}

/** The export's parameters and stake snapshot against ProtocolConfig and Staking at its stake block. */
async function chainStateProblems(deps: EpochAuditDeps, e: EpochReceiptsExport): Promise<string[]> {
  const problems: string[] = [];
  const onChain = await readParams(deps.clients, deps.contracts.ProtocolConfig, e.stakeBlock);
  const wrong = (Object.keys(onChain) as (keyof typeof onChain)[])
    .filter((k) => String(onChain[k]).toLowerCase() !== String(e.params[k]).toLowerCase())
    .map((k) => `${k} ${e.params[k]} (ProtocolConfig: ${onChain[k]})`);
  if (wrong.length > 0) problems.push(`params: not ProtocolConfig's at block ${e.stakeBlock}: ${wrong.join(', ')}`);
  const stakers = await stakeSnapshot(deps.clients, deps.contracts.Staking, e.stakeBlock);
  if (canonicalJson(stakers) !== canonicalJson(e.stakers))
    problems.push(`stakers: the snapshot is not Staking's at block ${e.stakeBlock}`);
  return problems;
}

/**
 * The cumulative amounts after epoch `epoch` (the audited epoch's previous one), from its payouts export, checked
 * against the root posted for it: an export that does not recompute to that root is refused (INVALID_ARGUMENT).
 */
async function previousPayouts(
  deps: EpochAuditDeps,
  node: Address,
  epoch: number,
  sources: EpochSources,
): Promise<Map<Address, bigint>> {
  if (epoch < 1) return new Map();
  const source = `payouts export of epoch ${epoch}`;
  const p = parseEpochPayoutsExport(await sources.payoutsExport(epoch), source);
  const leaves = p.cumulative.filter(([, v]) => v > 0n).map(([a, v]) => payoutLeaf(a, v));
  const root = leaves.length > 0 ? merkleTree(leaves).root : `0x${'00'.repeat(32)}`;
  const posted = await postedEpoch(deps, node, epoch);
  if (p.epoch !== epoch || root !== posted.payoutRoot)
    throw new BaseError(
      'INVALID_ARGUMENT',
      `The ${source} recomputes to root ${root}, not the root ${posted.payoutRoot} posted for it`,
      { details: { file: source, field: 'cumulative' } },
    );
  return new Map(p.cumulative);
}

/** Audits node `node`'s posted epoch `epoch` from the chain and `sources`: every problem found, or none. */
export async function auditEpoch(
  deps: EpochAuditDeps,
  node: Address,
  epoch: number,
  sources: EpochSources,
): Promise<EpochAudit> {
  const posted = await postedEpoch(deps, node, epoch);
  const text = await sources.receiptsExport(posted.receiptsCid);
  const problems: string[] = [];
  const cid = cidOf(text);
  if (cid !== posted.receiptsCid)
    problems.push(`receipts export: its content id is ${cid}, not the posted ${posted.receiptsCid}`);
  const e = parseEpochExport(text, `receipts export of epoch ${epoch}`);
  problems.push(...identityProblems(deps, e, node, epoch), ...(await chainStateProblems(deps, e)));
  const previous = await previousPayouts(deps, node, epoch - 1, sources);
  const verification = await verifyEpochExport(e, previous, posted);
  problems.push(...verification.problems);
  return { ...verification, ok: problems.length === 0, problems, epoch, posted };
}
