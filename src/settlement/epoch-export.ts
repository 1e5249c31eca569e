/**
 * An epoch's public export: every receipt it settles (the node-signed message and signature, plus what the split
 * needs: fee breakdown, model owner, DataNet treasury, live contributions and the ones excluded as withdrawn),
 * the stake snapshot and the protocol parameters. Its content id is posted on chain with the root, so anyone can
 * fetch it, check every signature and recompute the payout root — which is what a challenger does.
 */
import { type Address, getAddress, type Hex, isAddressEqual } from 'viem';
import { merkleTree } from '../chain/index.js';
import { BaseError, parseJson } from '../core/index.js';
import type { FeeBreakdown, FeeParams } from './fees.js';
import { computeEpochPayouts, type EpochPayouts } from './payouts.js';
import { type ReceiptMessage, verifyReceipt } from './receipts.js';

export interface ExportedReceipt {
  id: Hex;
  signed: ReceiptMessage;
  node: Address;
  signature: Hex;
  modelOwner: Address;
  dataNetTreasury: Address | null;
  fee: FeeBreakdown;
  /** Contributions that earn (withdrawn ones already removed; their share is unattributed). */
  contributions: { id: Hex; contributor: Address; ppm: number }[];
  /** Contributions the attribution named but that were withdrawn before the request. */
  withdrawn: Hex[];
}

export interface EpochReceiptsExport {
  kind: 'tributary.epoch-receipts';
  version: 1;
  epoch: number;
  /** The node whose sequence this epoch is: it signed every receipt and redeemed every fee. */
  node: Address;
  chainId: number;
  distributor: Address;
  params: FeeParams & { platformTreasury: Address; challengeWindow: bigint };
  stakeBlock: bigint;
  stakers: { address: Address; stake: bigint }[];
  receipts: ExportedReceipt[];
}

const big = (v: unknown) => BigInt(v as string | bigint);

function jsonOf(text: string, source: string): unknown {
  const parsed = parseJson(text);
  if (!parsed.ok)
    throw new BaseError(
      'INVALID_ARGUMENT',
      `${source} is not JSON: ${parsed.reason} at line ${parsed.line}, column ${parsed.column}`,
      { details: { line: parsed.line, column: parsed.column } },
    );
  return parsed.value;
}

/** Payouts exactly as the node computed them, from the export alone (plus the previous epoch's cumulative map). */
export function payoutsOfExport(e: EpochReceiptsExport, previous: ReadonlyMap<Address, bigint>): EpochPayouts {
  return computeEpochPayouts({
    receipts: e.receipts.map((r) => {
      const ppm = r.contributions.reduce((s, c) => s + c.ppm, 0);
      return {
        id: r.id,
        fee: r.fee,
        modelOwner: r.modelOwner,
        dataNetTreasury: r.dataNetTreasury,
        contributions: r.contributions.map((c) => ({ contributor: c.contributor, ppm: c.ppm })),
        unattributedPpm: 1_000_000 - ppm,
      };
    }),
    stakers: e.stakers,
    platformTreasury: e.params.platformTreasury,
    dustAccount: e.params.platformTreasury,
    previous,
  });
}

/** Reads an export (canonical JSON) back, with bigints restored; INVALID_ARGUMENT names what is malformed. */
export function parseEpochExport(text: string, source = 'epoch export'): EpochReceiptsExport {
  const raw = jsonOf(text, source) as Record<string, unknown>;
  if (raw.kind !== 'tributary.epoch-receipts' || raw.version !== 1) {
    throw new BaseError('INVALID_ARGUMENT', `${source} is not a version-1 tributary.epoch-receipts export`, {
      details: { field: 'kind' },
    });
  }
  try {
    const p = raw.params as Record<string, unknown>;
    return {
      kind: 'tributary.epoch-receipts',
      version: 1,
      epoch: Number(raw.epoch),
      node: getAddress(raw.node as string),
      chainId: Number(raw.chainId),
      distributor: getAddress(raw.distributor as string),
      params: {
        platformFeeBps: Number(p.platformFeeBps),
        platformFeeFlat: big(p.platformFeeFlat),
        ownerShareBps: Number(p.ownerShareBps),
        stakerShareBps: Number(p.stakerShareBps),
        contributorShareBps: Number(p.contributorShareBps),
        platformTreasury: getAddress(p.platformTreasury as string),
        challengeWindow: big(p.challengeWindow),
      },
      stakeBlock: big(raw.stakeBlock),
      stakers: (raw.stakers as { address: string; stake: string }[]).map((s) => ({
        address: getAddress(s.address),
        stake: big(s.stake),
      })),
      receipts: (raw.receipts as Record<string, unknown>[]).map((r) => {
        const s = r.signed as Record<string, string>;
        const f = r.fee as Record<string, string | number>;
        return {
          id: r.id as Hex,
          signed: {
            requestHash: s.requestHash as Hex,
            modelId: big(s.modelId),
            adapterHash: s.adapterHash as Hex,
            dataNetRoot: s.dataNetRoot as Hex,
            inputTokens: big(s.inputTokens),
            outputTokens: big(s.outputTokens),
            fee: big(s.fee),
            attributionHash: s.attributionHash as Hex,
            outputHash: s.outputHash as Hex,
            channelId: big(s.channelId),
            chargedAfter: big(s.chargedAfter),
          },
          node: getAddress(r.node as string),
          signature: r.signature as Hex,
          modelOwner: getAddress(r.modelOwner as string),
          dataNetTreasury: r.dataNetTreasury ? getAddress(r.dataNetTreasury as string) : null,
          fee: {
            inputTokens: Number(f.inputTokens),
            outputTokens: Number(f.outputTokens),
            tokenFee: big(f.tokenFee),
            platform: big(f.platform),
            fee: big(f.fee),
            net: big(f.net),
            owner: big(f.owner),
            stakers: big(f.stakers),
            contributors: big(f.contributors),
          },
          contributions: (r.contributions as { id: Hex; contributor: string; ppm: number }[]).map((c) => ({
            id: c.id,
            contributor: getAddress(c.contributor),
            ppm: c.ppm,
          })),
          withdrawn: r.withdrawn as Hex[],
        };
      }),
    };
  } catch (e) {
    if (e instanceof BaseError) throw e;
    throw new BaseError('INVALID_ARGUMENT', `${source} is malformed: ${(e as Error).message}`, { cause: e });
  }
}

export interface EpochVerification {
  ok: boolean;
  payoutRoot: Hex;
  receiptsRoot: Hex;
  cumulativeTotal: bigint;
  fees: bigint;
  problems: string[];
}

/**
 * Everything a challenger checks: each receipt is signed by its node for this chain and distributor, its fee is
 * the sum of its parts, its shares add up, and the root, total and receipts root recomputed from the export match
 * what was posted.
 */
export async function verifyEpochExport(
  e: EpochReceiptsExport,
  previous: ReadonlyMap<Address, bigint>,
  posted: { payoutRoot: Hex; receiptsRoot: Hex; cumulativeTotal: bigint },
): Promise<EpochVerification> {
  const problems: string[] = [];
  const domain = { chainId: e.chainId, distributor: e.distributor };
  for (const r of e.receipts) {
    if (!isAddressEqual(r.node, e.node))
      problems.push(`receipt ${r.id}: signed by ${r.node}, not this epoch's node ${e.node}`);
    if (!(await verifyReceipt(domain, { id: r.id, message: r.signed, node: r.node, signature: r.signature }))) {
      problems.push(`receipt ${r.id}: the signature or id does not match the signed fields`);
    }
    if (r.signed.fee !== r.fee.fee)
      problems.push(`receipt ${r.id}: signed fee ${r.signed.fee} differs from the fee split's ${r.fee.fee}`);
    const parts = r.fee.platform + r.fee.owner + r.fee.stakers + r.fee.contributors;
    if (parts !== r.fee.fee) problems.push(`receipt ${r.id}: fee parts add up to ${parts}, not ${r.fee.fee}`);
    const ppm = r.contributions.reduce((s, c) => s + c.ppm, 0);
    if (ppm > 1_000_000 || r.contributions.some((c) => !Number.isInteger(c.ppm) || c.ppm < 0))
      problems.push(`receipt ${r.id}: contribution shares are not 0..1,000,000 ppm`);
  }
  const payouts = payoutsOfExport(e, previous);
  const receiptsRoot = merkleTree(e.receipts.map((r) => r.id)).root;
  if (payouts.root !== posted.payoutRoot)
    problems.push(`payout root: recomputed ${payouts.root}, posted ${posted.payoutRoot}`);
  if (payouts.cumulativeTotal !== posted.cumulativeTotal)
    problems.push(`cumulative total: recomputed ${payouts.cumulativeTotal}, posted ${posted.cumulativeTotal}`);
  if (receiptsRoot !== posted.receiptsRoot)
    problems.push(`receipts root: recomputed ${receiptsRoot}, posted ${posted.receiptsRoot}`);
  return {
    ok: problems.length === 0,
    payoutRoot: payouts.root,
    receiptsRoot,
    cumulativeTotal: payouts.cumulativeTotal,
    fees: payouts.fees,
    problems,
  };
}

/** The previous epoch's cumulative payouts, from its payouts export. */
export function parsePayoutsExport(text: string, source = 'payouts export'): Map<Address, bigint> {
  const raw = jsonOf(text, source) as { kind?: string; cumulative?: [string, string][] };
  if (raw.kind !== 'tributary.epoch-payouts' || !Array.isArray(raw.cumulative)) {
    throw new BaseError('INVALID_ARGUMENT', `${source} is not a tributary.epoch-payouts export`, {
      details: { field: 'kind' },
    });
  }
  return new Map(raw.cumulative.map(([a, v]) => [getAddress(a), BigInt(v)]));
}
