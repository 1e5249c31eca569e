/**
 * Receipt rows and epoch exports as a node makes them, for the settlement unit tests: receipts signed by a node
 * key for one chain and distributor, each with an attribution whose hash the receipt signs, and contributors who
 * sign real EIP-712 withdrawals in the DataNet registry's domain. What the export attacks tamper with.
 */
import { type Address, getAddress, type Hex, keccak256, toHex, zeroHash } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { type AttributionResult, attributionHash } from '../../attribution/index.js';
import { canonicalJson } from '../../core/index.js';
import { signWithdrawal } from '../../datanets/index.js';
import {
  type EpochParams,
  payoutInputs,
  receiptsExportOf,
  settleExport,
  withdrawalsOfExport,
} from '../epoch-compute.js';
import { type EpochReceiptsExport, parseEpochExport, verifyEpochExport } from '../epoch-export.js';
import { computeFee, type FeeBreakdown } from '../fees.js';
import { type ReceiptMessage, type ReceiptRow, receiptId, receiptTypedData } from '../receipts.js';
import type { SignedWithdrawal } from '../withdrawals.js';

export const node = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
export const addr = (n: number): Address => getAddress(`0x${n.toString(16).padStart(40, '0')}`);
export const hash = (s: string): Hex => keccak256(toHex(s));
export const domain = { chainId: 31337, distributor: addr(0xd1) };
export const registry = addr(0xde);
export const platformTreasury = addr(0xfee);
export const params: EpochParams = {
  platformFeeBps: 500,
  platformFeeFlat: 0n,
  ownerShareBps: 4000,
  stakerShareBps: 1000,
  contributorShareBps: 5000,
  platformTreasury,
  challengeWindow: 3600n,
  unattributedAccount: platformTreasury,
};
export const requestAt = new Date('2025-01-02T00:00:00Z');
/** The DataNet the receipts' model was trained on. */
export const DATANET = 3n;

/** Contributors with keys, so that they can sign withdrawals. */
export const aliceKey = privateKeyToAccount('0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a');
export const bobKey = privateKeyToAccount('0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6');
export const alice = aliceKey.address;
export const bob = bobKey.address;
export const c1 = hash('contribution 1');
export const c2 = hash('contribution 2');

/** A fee split as the receipts table stores it: amounts as decimal strings. */
const stored = (f: FeeBreakdown): Record<string, string | number> =>
  Object.fromEntries(Object.entries(f).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v]));

export interface ReceiptOptions {
  fee?: FeeBreakdown;
  contributions?: { id: string; contributor: string; ppm: number }[];
  /** No attribution at all (the signed hash is zero). */
  unattributed?: boolean;
  modelOwner?: Address | null;
  servedAt?: Date;
}

/** The attribution a receipt signs: its contributions over the DataNet version of `root`. */
export function attributionOf(root: Hex, contributions: { id: string; contributor: string; ppm: number }[]) {
  return {
    version: 2,
    methods: ['span'],
    corpusHash: `0x${'cc'.repeat(32)}`,
    dataNet: { id: DATANET.toString(), version: 1, root },
    contributions: contributions.map((c) => ({ ...c, score: 1 })),
    sharesPpm: {},
    unattributedPpm: 1_000_000 - contributions.reduce((s, c) => s + c.ppm, 0),
    confidence: 1,
    spans: [],
  } satisfies AttributionResult;
}

/** A receipt row as the node stores it, signed by the node for this chain and distributor. */
export async function receiptRow(n: number, o: ReceiptOptions = {}): Promise<ReceiptRow> {
  const fee = o.fee ?? computeFee(params, { inPer1k: 1_000n, outPer1k: 3_000n }, 100 * n, 10 * n);
  const root = hash('root');
  const attribution = o.unattributed ? null : attributionOf(root, o.contributions ?? []);
  const message: ReceiptMessage = {
    requestHash: hash(`request ${n}`),
    modelId: 1n,
    adapterHash: hash('adapter'),
    dataNetRoot: root,
    inputTokens: BigInt(fee.inputTokens),
    outputTokens: BigInt(fee.outputTokens),
    fee: fee.fee,
    attributionHash: attribution ? attributionHash(attribution) : zeroHash,
    outputHash: hash(`output ${n}`),
    channelId: 7n,
    chargedAfter: 1000n * BigInt(n),
  };
  return {
    id: receiptId(domain, message),
    seq: BigInt(n),
    request_id: `req-${n}`,
    request_hash: message.requestHash,
    model_id: message.modelId,
    model_name: 'planets',
    model_owner: o.modelOwner === undefined ? addr(0x0e) : o.modelOwner,
    adapter_hash: message.adapterHash,
    datanet_id: DATANET,
    datanet_version: 1,
    datanet_root: message.dataNetRoot,
    datanet_treasury: addr(0x7e),
    input_tokens: fee.inputTokens,
    output_tokens: fee.outputTokens,
    fee: fee.fee.toString(),
    fee_breakdown: stored(fee),
    attribution,
    attribution_hash: message.attributionHash,
    output_hash: message.outputHash,
    channel_id: message.channelId,
    charged_after: message.chargedAfter.toString(),
    node: node.address,
    signature: await node.signTypedData(receiptTypedData(domain, message)),
    epoch: null,
    created_at: o.servedAt ?? requestAt,
  };
}

/**
 * `contributor`'s signed withdrawal of `contributionId`, applied at `withdrawnAt` (by default a second before the
 * request), signed for `dataNetId` in the domain of `chainId` and `verifyingContract` (the receipts' by default).
 */
export async function withdrawal(
  contributor: typeof aliceKey,
  contributionId: Hex,
  o: { withdrawnAt?: Date; dataNetId?: bigint; chainId?: number; registry?: Address; signer?: typeof aliceKey } = {},
): Promise<SignedWithdrawal> {
  const signed = await signWithdrawal(
    o.signer ?? contributor,
    { chainId: o.chainId ?? domain.chainId, registry: o.registry ?? registry },
    { dataNetId: o.dataNetId ?? DATANET, contributionId, deadline: 4_000_000_000n },
  );
  return {
    contributionId,
    dataNetId: DATANET,
    contributor: contributor.address,
    withdrawnAt: o.withdrawnAt ?? new Date(requestAt.getTime() - 1000),
    signed: { nonce: BigInt(signed.nonce), deadline: BigInt(signed.deadline), signature: signed.signature as Hex },
  };
}

/** The epoch export the node makes of `rows`, given the signed withdrawals it holds. */
export function exportOf(rows: ReceiptRow[], withdrawn: ReadonlyMap<string, SignedWithdrawal> = new Map()) {
  const receipts = payoutInputs(rows, withdrawn, platformTreasury);
  return receiptsExportOf({
    epoch: 1,
    node: node.address,
    chainId: domain.chainId,
    distributor: domain.distributor,
    dataNetRegistry: registry,
    params,
    stakeBlock: 42n,
    stakers: [
      { address: addr(0x51), stake: 300n },
      { address: addr(0x52), stake: 100n },
    ],
    receipts,
    withdrawals: withdrawalsOfExport(receipts, withdrawn),
  });
}

/**
 * A dishonest node's audit: `e` as posted — its payout root, total and receipts root recomputed from `e` itself,
 * so that the roots agree — read back from its canonical JSON and verified.
 */
export function auditAsPosted(e: EpochReceiptsExport) {
  const s = settleExport(e, new Map());
  return verifyEpochExport(parseEpochExport(canonicalJson(e)), new Map(), {
    payoutRoot: s.payouts.root,
    receiptsRoot: s.receiptsRoot,
    cumulativeTotal: s.payouts.cumulativeTotal,
  });
}
