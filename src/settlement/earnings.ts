/**
 * What an address earned and why: per model it owns, per contribution of its, and as a staker — with the receipts behind each figure. The per-receipt amounts use the same formulas as the
 * epoch payouts; the epoch totals (what the Merkle root pays) floor once per account, so the explanation reports
 * the difference as rounding instead of hiding it.
 */
import { type Address, getAddress, type Hex, isAddress, isAddressEqual } from 'viem';
import { type ChainClients, type Deployment, RewardDistributorArtifact } from '../chain/index.js';
import type { BlobStore, Db } from '../store/index.js';
import { parseEpochExport } from './epoch-export.js';
import { attributedContributionId } from './epochs.js';
import { type ReceiptRow, receiptOf } from './receipts.js';
import { earningContributions, signedWithdrawals } from './withdrawals.js';

const PPM = 1_000_000n;

export interface EarningsLine {
  receiptId: Hex;
  requestId: string;
  model: string;
  epoch: number | null;
  dataNetId: string | null;
  role: 'modelOwner' | 'contributor';
  /** For contributors: the contribution and its share of the receipt's contributor pool. */
  contributionId?: Hex;
  ppm?: number;
  wei: bigint;
}

export interface Earnings {
  address: Address;
  /** Settled: what the epochs' roots pay this address, cumulative. */
  settled: { epoch: number; amount: bigint; cumulative: bigint }[];
  cumulative: bigint;
  claimed: bigint;
  /** Claimable now under the finalized root. */
  claimable: bigint;
  /** Receipts not yet in an epoch (paid or awaiting their voucher). */
  pending: bigint;
  byModel: { model: string; receipts: number; wei: bigint }[];
  byContribution: { contributionId: Hex; dataNetId: string | null; receipts: number; wei: bigint }[];
  asStaker: { epoch: number; stake: bigint; totalStake: bigint; pool: bigint; wei: bigint }[];
  /**
   * Settled amounts minus the per-receipt explanation: flooring once per account and epoch, and for the platform
   * treasury its platform fees, the unattributed shares and the rounding dust.
   */
  roundingWei: bigint;
  lines: EarningsLine[];
}

export interface EarningsDeps {
  db: Db;
  clients: ChainClients;
  deployment: Deployment;
  blobs: BlobStore;
  /** The node whose epochs this database holds (claims are per node); none = nothing settled here. */
  node?: { address: Address } | undefined;
}

function bump<K>(m: Map<K, { receipts: number; wei: bigint }>, k: K, wei: bigint) {
  const e = m.get(k) ?? { receipts: 0, wei: 0n };
  e.receipts += 1;
  e.wei += wei;
  m.set(k, e);
}

export function createEarnings(deps: EarningsDeps) {
  const distributor = {
    address: deps.deployment.contracts.RewardDistributor,
    abi: RewardDistributorArtifact.abi,
  } as const;

  /** Per-receipt lines for `address` (withdrawn contributions earn nothing from requests after their withdrawal). */
  async function lines(address: Address, limit: number): Promise<EarningsLine[]> {
    const needle = address.slice(2).toLowerCase();
    const { rows } = await deps.db.query<ReceiptRow>(
      `SELECT * FROM receipts WHERE lower(model_owner) = $1 OR position($2 in lower(attribution::text)) > 0
       ORDER BY seq DESC LIMIT $3`,
      [address.toLowerCase(), needle, limit],
    );
    const withdrawn = await signedWithdrawals(
      deps.db,
      rows.flatMap((r) => r.attribution?.contributions.map((c) => c.id) ?? []),
    );
    const out: EarningsLine[] = [];
    for (const row of rows) {
      const r = receiptOf(row);
      const base = {
        receiptId: r.id,
        requestId: r.requestId,
        model: r.model,
        epoch: r.epoch,
        dataNetId: r.dataNet?.id ?? null,
      };
      if (r.modelOwner && isAddressEqual(r.modelOwner, address))
        out.push({ ...base, role: 'modelOwner', wei: r.feeBreakdown.owner });
      const contributions = r.attribution?.contributions ?? [];
      const live = earningContributions(contributions, withdrawn, r.createdAt);
      for (const c of live) {
        if (isAddress(c.contributor, { strict: false }) && isAddressEqual(c.contributor, address)) {
          out.push({
            ...base,
            role: 'contributor',
            contributionId: attributedContributionId(c.id),
            ppm: c.ppm,
            wei: (r.feeBreakdown.contributors * BigInt(c.ppm)) / PPM,
          });
        }
      }
    }
    return out;
  }

  return {
    async of(account: Address, o: { limit?: number } = {}): Promise<Earnings> {
      const address = getAddress(account);
      const settledRows = await deps.db.query<{ epoch: number; amount: string; cumulative: string }>(
        'SELECT epoch, amount, cumulative FROM epoch_payouts WHERE lower(account) = $1 ORDER BY epoch',
        [address.toLowerCase()],
      );
      const settled = settledRows.rows.map((r) => ({
        epoch: r.epoch,
        amount: BigInt(r.amount),
        cumulative: BigInt(r.cumulative),
      }));
      const cumulative = settled.at(-1)?.cumulative ?? 0n;
      // This node's sequence: what it settled for `address` and what was claimed from its fees.
      const node = deps.node?.address;
      const claimed = node
        ? await deps.clients.public.readContract({ ...distributor, functionName: 'claimed', args: [node, address] })
        : 0n;
      const finalized = node
        ? Number(
            (await deps.clients.public.readContract({ ...distributor, functionName: 'nodeState', args: [node] }))
              .finalizedEpoch,
          )
        : 0;
      const finalCumulative = [...settled].reverse().find((s) => s.epoch <= finalized)?.cumulative ?? 0n;
      const all = await lines(address, o.limit ?? 10_000);

      const byModel = new Map<string, { receipts: number; wei: bigint }>();
      const byContribution = new Map<Hex, { receipts: number; wei: bigint; dataNetId: string | null }>();
      let pending = 0n;
      let explainedSettled = 0n;
      for (const l of all) {
        if (l.epoch === null) pending += l.wei;
        else explainedSettled += l.wei;
        if (l.role === 'modelOwner') bump(byModel, l.model, l.wei);
        if (l.role === 'contributor' && l.contributionId) {
          const e = byContribution.get(l.contributionId) ?? { receipts: 0, wei: 0n, dataNetId: l.dataNetId };
          e.receipts += 1;
          e.wei += l.wei;
          byContribution.set(l.contributionId, e);
        }
      }

      // Staking: the epoch's staker pool shared by the stake snapshot in its export.
      const asStaker: Earnings['asStaker'] = [];
      const epochs = await deps.db.query<{ epoch: number; receipts_cid: string }>(
        'SELECT epoch, receipts_cid FROM epochs ORDER BY epoch',
      );
      for (const e of epochs.rows) {
        const bytes = await deps.blobs.get(e.receipts_cid);
        if (!bytes) continue;
        const exp = parseEpochExport(Buffer.from(bytes).toString('utf8'));
        const mine = exp.stakers.find((s) => isAddressEqual(s.address, address));
        if (!mine) continue;
        const totalStake = exp.stakers.reduce((s, x) => s + x.stake, 0n);
        const pool = exp.receipts.reduce((s, r) => s + r.fee.stakers, 0n);
        const wei = (pool * mine.stake) / totalStake;
        asStaker.push({ epoch: e.epoch, stake: mine.stake, totalStake, pool, wei });
        explainedSettled += wei;
      }
      return {
        address,
        settled,
        cumulative,
        claimed,
        claimable: finalCumulative > claimed ? finalCumulative - claimed : 0n,
        pending,
        byModel: [...byModel].map(([model, v]) => ({ model, ...v })),
        byContribution: [...byContribution].map(([contributionId, v]) => ({ contributionId, ...v })),
        asStaker,
        roundingWei: cumulative - explainedSettled,
        lines: all.slice(0, o.limit ?? 100),
      };
    },
  };
}

export type EarningsView = ReturnType<typeof createEarnings>;
