/**
 * Closing an epoch of this node's own sequence (the distributor keeps one per node: nobody else can post into
 * it). Each step first looks at what is already done (in the database and on chain), so a crash at any point —
 * SIGKILL included — is repaired by running close() again: the same receipts, the same root, nothing redeemed or
 * posted twice.
 *
 *   1. redeem    every channel's latest voucher the chain does not have yet, so the fees reach the distributor
 *   2. compute   the receipts those redemptions paid for → payouts (deterministic) → export + root; one
 *                transaction (epoch-compute.ts, in stages). Receipts of a channel closed before its voucher was
 *                redeemed can never be paid: they are marked unredeemable and reported, and never block an epoch.
 *   3. post      the root on chain (the node's validator stake backs all the root could still pay out)
 *   4. finalize  after the challenge window, so claims use the root
 *
 * Channels close to expiry are also redeemed in the background (redeemExpiring), well inside the escrow's
 * settlement grace, so a user closing the channel never takes back what the node served.
 */
import { type Address, getAddress, type Hex, type LocalAccount } from 'viem';
import {
  InferenceEscrowArtifact,
  merkleTree,
  RewardDistributorArtifact,
  sendTx,
  verifyMerkleProof,
} from '../chain/index.js';
import { BaseError, failpoint, type Logger, silentLogger } from '../core/index.js';
import { auditEpoch, type EpochAudit } from './epoch-audit.js';
import { computeEpoch, type EpochComputeDeps } from './epoch-compute.js';
import { payoutLeaf } from './payouts.js';

export { attributedContributionId } from './epoch-compute.js';

/** RewardDistributor.Status, as numbers. */
export const EPOCH_STATUS = { none: 0, pending: 1, challenged: 2, final: 3, void: 4 } as const;

export interface EpochRecord {
  epoch: number;
  status: 'computed' | 'redeemed' | 'posted' | 'final' | 'void';
  receipts: number;
  fees: bigint;
  byRole: Record<string, string>;
  payoutRoot: Hex;
  cumulativeTotal: bigint;
  receiptsRoot: Hex;
  receiptsCid: string;
  payoutsCid: string;
  postTx: Hex | null;
  postGas: bigint | null;
}

type EpochRow = {
  epoch: number;
  status: EpochRecord['status'];
  receipts: number;
  fees: string;
  by_role: Record<string, string>;
  payout_root: Hex;
  cumulative_total: string;
  receipts_root: Hex;
  receipts_cid: string;
  payouts_cid: string;
  post_tx: Hex | null;
  post_gas: bigint | null;
};

const toRecord = (r: EpochRow): EpochRecord => ({
  epoch: r.epoch,
  status: r.status,
  receipts: r.receipts,
  fees: BigInt(r.fees),
  byRole: r.by_role,
  payoutRoot: r.payout_root,
  cumulativeTotal: BigInt(r.cumulative_total),
  receiptsRoot: r.receipts_root,
  receiptsCid: r.receipts_cid,
  payoutsCid: r.payouts_cid,
  postTx: r.post_tx,
  postGas: r.post_gas,
});

/** `node` redeems vouchers (the serving node) and posts epochs (it must hold an eligible validator stake). */
export interface EpochsDeps extends EpochComputeDeps {
  log?: Logger;
}

export function createEpochs(deps: EpochsDeps) {
  const log = deps.log ?? silentLogger();
  const distributor = {
    address: deps.deployment.contracts.RewardDistributor,
    abi: RewardDistributorArtifact.abi,
    contract: 'RewardDistributor',
  } as const;

  /** This node's sequence on chain: epochs posted and final, claim root, declared and claimed totals, fees. */
  function nodeState() {
    return deps.clients.public.readContract({ ...distributor, functionName: 'nodeState', args: [deps.node.address] });
  }

  /** Mirrors the chain's verdict on posted epochs: final, or void (a challenge not resolved in time, a fraud proof). */
  async function refreshStatuses(): Promise<void> {
    const { rows } = await deps.db.query<{ epoch: number }>(
      `SELECT epoch FROM epochs WHERE status = 'posted' ORDER BY epoch`,
    );
    for (const { epoch } of rows) {
      const onChain = await deps.clients.public.readContract({
        ...distributor,
        functionName: 'getEpoch',
        args: [deps.node.address, BigInt(epoch)],
      });
      const status =
        onChain.status === EPOCH_STATUS.final ? 'final' : onChain.status === EPOCH_STATUS.void ? 'void' : null;
      if (status) await deps.db.query('UPDATE epochs SET status = $2 WHERE epoch = $1', [epoch, status]);
      if (status === 'void') log.warn({ epoch }, 'epoch voided on chain: the next epoch carries its payouts');
    }
  }

  async function get(epoch: number): Promise<EpochRecord | undefined> {
    const { rows } = await deps.db.query<EpochRow>('SELECT * FROM epochs WHERE epoch = $1', [epoch]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** The epoch this node just wrote or changed: INTERNAL if it is not there. */
  async function mustGet(epoch: number): Promise<EpochRecord> {
    const e = await get(epoch);
    if (!e) throw new BaseError('INTERNAL', `Epoch ${epoch} is missing from the database`, { details: { epoch } });
    return e;
  }

  async function latest(): Promise<EpochRecord | undefined> {
    const { rows } = await deps.db.query<EpochRow>('SELECT * FROM epochs ORDER BY epoch DESC LIMIT 1');
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** Step 2: the next epoch from the receipts that redeemed vouchers paid for (epoch-compute.ts). */
  async function compute(epoch: number): Promise<EpochRecord> {
    await computeEpoch(deps, log, epoch);
    return mustGet(epoch);
  }

  const escrow = {
    address: deps.deployment.contracts.InferenceEscrow,
    abi: InferenceEscrowArtifact.abi,
    contract: 'InferenceEscrow',
  } as const;

  /**
   * Step 1: redeems the latest voucher of every open channel of this node that the chain has not redeemed yet
   * (only those expiring within `expiringWithin` seconds, when given). A channel the user closed meanwhile is
   * skipped: its receipts are left out of settlement, never retried forever.
   */
  async function redeemVouchers(expiringWithin?: bigint): Promise<{ redeemed: number; skipped: number }> {
    await deps.channels.sync();
    // Channel expiry is chain time (which a local chain may have moved ahead of the wall clock).
    const horizon =
      expiringWithin === undefined
        ? null
        : (await deps.clients.public.getBlock({ blockTag: 'latest' })).timestamp + expiringWithin;
    const { rows } = await deps.db.query<{ id: bigint; voucher_amount: string; voucher_signature: Hex }>(
      `SELECT id, voucher_amount, voucher_signature FROM channels
       WHERE NOT closed AND voucher_amount > redeemed AND voucher_signature IS NOT NULL AND lower(node) = lower($1)
         AND ($2::bigint IS NULL OR expires_at <= $2::bigint)
       ORDER BY expires_at, id`,
      [deps.node.address, horizon?.toString() ?? null],
    );
    let redeemed = 0;
    let skipped = 0;
    for (const c of rows) {
      const onChain = await deps.clients.public.readContract({ ...escrow, functionName: 'getChannel', args: [c.id] });
      if (onChain.closed) {
        skipped++;
        continue;
      }
      if (onChain.redeemed >= BigInt(c.voucher_amount)) continue;
      await sendTx(deps.clients, deps.node, {
        ...escrow,
        functionName: 'redeem',
        args: [c.id, BigInt(c.voucher_amount), c.voucher_signature],
      });
      redeemed++;
      failpoint('epoch.redeemed-one');
    }
    await deps.channels.sync();
    return { redeemed, skipped };
  }

  /** Step 3: post the root, unless the chain already has this epoch (a crash after the post). */
  async function post(e: EpochRecord): Promise<void> {
    const { epochCount } = await nodeState();
    if (epochCount >= BigInt(e.epoch)) {
      const posted = await deps.clients.public.readContract({
        ...distributor,
        functionName: 'getEpoch',
        args: [deps.node.address, BigInt(e.epoch)],
      });
      if (posted.payoutRoot !== e.payoutRoot) {
        throw new BaseError(
          'CONFLICT',
          `Epoch ${e.epoch} on chain has root ${posted.payoutRoot}, not this node's ${e.payoutRoot}`,
          { details: { epoch: e.epoch } },
        );
      }
    } else {
      const receipt = await sendTx(deps.clients, deps.node, {
        ...distributor,
        functionName: 'postEpoch',
        args: [BigInt(e.epoch), e.payoutRoot, e.cumulativeTotal, e.receiptsRoot, e.receiptsCid],
      });
      failpoint('epoch.posted-on-chain');
      await deps.db.query('UPDATE epochs SET post_tx = $2, post_gas = $3 WHERE epoch = $1', [
        e.epoch,
        receipt.transactionHash,
        receipt.gasUsed.toString(),
      ]);
    }
    await deps.db.query(
      `UPDATE epochs SET status = 'posted', posted_at = coalesce(posted_at, now()) WHERE epoch = $1 AND status = 'redeemed'`,
      [e.epoch],
    );
  }

  return {
    get,
    latest,
    async list(): Promise<EpochRecord[]> {
      const { rows } = await deps.db.query<EpochRow>('SELECT * FROM epochs ORDER BY epoch');
      return rows.map(toRecord);
    },
    /** What `account` can claim from this node now: its final epoch's cumulative amount and proof, and what it claimed. */
    async claimable(account: Address) {
      const finalized = Number((await nodeState()).finalizedEpoch);
      const claimed = await deps.clients.public.readContract({
        ...distributor,
        functionName: 'claimed',
        args: [deps.node.address, account],
      });
      const p = finalized > 0 ? await this.payout(account, finalized) : undefined;
      return {
        node: getAddress(deps.node.address),
        epoch: finalized,
        account: getAddress(account),
        cumulative: p?.cumulative ?? 0n,
        claimed,
        proof: p?.proof ?? [],
      };
    },
    /** Redeems now the vouchers of channels expiring within `seconds` (the background redeemer's step). */
    redeemExpiring: (seconds: bigint) => redeemVouchers(seconds),
    /** Receipts left out of settlement because their channel closed before redemption (newest first). */
    async unredeemable(limit = 100) {
      const { rows } = await deps.db.query<{ id: Hex; channel_id: bigint; fee: string; charged_after: string }>(
        `SELECT id, channel_id, fee, charged_after FROM receipts WHERE unredeemable_at IS NOT NULL ORDER BY seq DESC LIMIT $1`,
        [limit],
      );
      return rows.map((r) => ({
        id: r.id,
        channelId: BigInt(r.channel_id),
        fee: BigInt(r.fee),
        chargedAfter: BigInt(r.charged_after),
      }));
    },
    /** Runs (or resumes) closing the next epoch up to posting it; returns it. */
    async close(): Promise<EpochRecord> {
      await refreshStatuses();
      let e = await latest();
      if (!e || e.status === 'final' || e.status === 'posted' || e.status === 'void') {
        const number = (e?.epoch ?? 0) + 1;
        if (e && e.status === 'posted') await this.finalize(e.epoch).catch(() => undefined); // posting the next finalizes it anyway
        await redeemVouchers();
        e = await compute(number);
      }
      if (e.status === 'computed') {
        // An epoch computed before redemption came first (older nodes): its channels were redeemed above.
        await redeemVouchers();
        await deps.db.query(`UPDATE epochs SET status = 'redeemed' WHERE epoch = $1 AND status = 'computed'`, [
          e.epoch,
        ]);
        e = await mustGet(e.epoch);
      }
      if (e.status === 'redeemed') {
        await post(e);
        e = await mustGet(e.epoch);
      }
      return e;
    },
    /** Step 4 (after the challenge window): claims on this node now use this epoch's root. */
    async finalize(epoch: number): Promise<EpochRecord> {
      const onChain = await deps.clients.public.readContract({
        ...distributor,
        functionName: 'getEpoch',
        args: [deps.node.address, BigInt(epoch)],
      });
      if (onChain.status === EPOCH_STATUS.pending)
        await sendTx(deps.clients, deps.node, {
          ...distributor,
          functionName: 'finalize',
          args: [deps.node.address, BigInt(epoch)],
        });
      await refreshStatuses();
      return mustGet(epoch);
    },
    /** What `account` can claim under epoch `epoch`'s root, with the proof. */
    async payout(
      account: Address,
      epoch: number,
    ): Promise<{ epoch: number; account: Address; cumulative: bigint; proof: Hex[] } | undefined> {
      const { rows } = await deps.db.query<{ account: Address; cumulative: string }>(
        'SELECT account, cumulative FROM epoch_payouts WHERE epoch = $1 ORDER BY account',
        [epoch],
      );
      const mine = rows.find((r) => r.account.toLowerCase() === account.toLowerCase());
      if (!mine) return undefined;
      const leaves = rows
        .filter((r) => BigInt(r.cumulative) > 0n)
        .map((r) => payoutLeaf(getAddress(r.account), BigInt(r.cumulative)));
      const tree = merkleTree(leaves);
      const leaf = payoutLeaf(getAddress(mine.account), BigInt(mine.cumulative));
      const proof = tree.proof(leaf);
      if (!verifyMerkleProof(tree.root, leaf, proof))
        throw new BaseError('INTERNAL', `Payout proof for ${account} does not verify`);
      return { epoch, account: getAddress(mine.account), cumulative: BigInt(mine.cumulative), proof };
    },
    /** The epoch's public receipts export (canonical JSON), as posted by content id. */
    async receiptsExport(epoch: number): Promise<string> {
      const e = await get(epoch);
      if (!e)
        throw new BaseError('NOT_FOUND', `Epoch ${epoch} has not been closed on this node`, { details: { epoch } });
      const bytes = await deps.blobs.get(e.receiptsCid);
      if (!bytes)
        throw new BaseError(
          'NOT_FOUND',
          `The receipts export ${e.receiptsCid} of epoch ${epoch} is missing from the blob store`,
          { details: { epoch } },
        );
      return Buffer.from(bytes).toString('utf8');
    },
    /**
     * What a challenger does (epoch-audit.ts), with this node's blob store as the source of the exports: the same
     * audit `tributary epoch verify` runs on the auditor's machine.
     */
    async verify(epoch: number): Promise<EpochAudit> {
      const blob = async (cid: string, what: string, at: number) => {
        const bytes = await deps.blobs.get(cid);
        if (!bytes)
          throw new BaseError('NOT_FOUND', `This node does not hold the ${what} ${cid} of epoch ${at}`, {
            details: { epoch: at },
          });
        return Buffer.from(bytes).toString('utf8');
      };
      return auditEpoch(
        { clients: deps.clients, chainId: deps.deployment.chainId, contracts: deps.deployment.contracts },
        deps.node.address,
        epoch,
        {
          receiptsExport: (cid) => blob(cid, 'receipts export', epoch),
          payoutsExport: async (at) => {
            const previous = await get(at);
            if (!previous)
              throw new BaseError('NOT_FOUND', `This node has no epoch ${at}, whose payouts epoch ${epoch} carries`, {
                details: { epoch: at },
              });
            return blob(previous.payoutsCid, 'payouts export', at);
          },
        },
      );
    },
    /** Pays `account` what this node's final root owes it (anyone may send this). */
    async claim(account: Address, sender: LocalAccount) {
      const finalized = Number((await nodeState()).finalizedEpoch);
      const p = finalized > 0 ? await this.payout(account, finalized) : undefined;
      if (!p)
        throw new BaseError('NOT_FOUND', `${account} has nothing under the finalized epoch ${finalized}`, {
          details: { account },
        });
      return sendTx(deps.clients, sender, {
        ...distributor,
        functionName: 'claim',
        args: [deps.node.address, p.account, p.cumulative, p.proof],
      });
    },
  };
}

export type Epochs = ReturnType<typeof createEpochs>;
