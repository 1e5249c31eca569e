/**
 * Settlement as one service: channels (mirrored from the escrow), protocol parameters, payments around serving,
 * epochs, and earnings. A node without a key can still quote and explain earnings, but refuses paid requests.
 */
import { getAddress, type LocalAccount } from 'viem';
import { type ChainClients, type Deployment, StakingArtifact, stakingRoles } from '../chain/index.js';
import { BaseError, type Logger, silentLogger } from '../core/index.js';
import type { PaymentHooks } from '../protocol/index.js';
import type { BlobStore, Db } from '../store/index.js';
import { createChannels } from './channels.js';
import { createEarnings } from './earnings.js';
import { createEpochs } from './epochs.js';
import { computeFee } from './fees.js';
import { createParamsReader } from './params.js';
import {
  type AttributeAnswer,
  createPayments,
  type DataNetTreasury,
  type PayableModel,
  type PaymentReservation,
  pricesOf,
} from './payments.js';

export interface SettlementDeps {
  db: Db;
  clients: ChainClients;
  deployment: Deployment;
  blobs: BlobStore;
  /** The node's key; without it paid requests are refused. */
  node?: LocalAccount | undefined;
  attribute?: AttributeAnswer;
  dataNetTreasury?: DataNetTreasury;
  log?: Logger;
}

export function createSettlement(deps: SettlementDeps) {
  const log = deps.log ?? silentLogger();
  const params = createParamsReader(deps.clients, deps.deployment);
  const channels = createChannels(deps.db, deps.clients, deps.deployment, log);
  const earnings = createEarnings(deps);
  const node = deps.node;
  /** What only a node with a key has: its key, payments and epochs. */
  const keyed = node
    ? {
        node,
        payments: createPayments({
          db: deps.db,
          deployment: deps.deployment,
          channels,
          params,
          node,
          ...(deps.attribute ? { attribute: deps.attribute } : {}),
          ...(deps.dataNetTreasury ? { dataNetTreasury: deps.dataNetTreasury } : {}),
        }),
        epochs: createEpochs({
          db: deps.db,
          clients: deps.clients,
          deployment: deps.deployment,
          channels,
          blobs: deps.blobs,
          params,
          node,
          log,
        }),
      }
    : undefined;

  /** The key, payments and epochs; NODE_UNAVAILABLE when the node has no key. */
  function requireNode(): NonNullable<typeof keyed> {
    if (!keyed) {
      throw new BaseError(
        'NODE_UNAVAILABLE',
        'This node has no key (TRIBUTARY_NODE_KEY), so it cannot take payments, redeem vouchers or post epochs',
        {
          details: { field: 'nodeKey' },
          docsPath: 'docs/configuration.md',
        },
      );
    }
    return keyed;
  }

  return {
    db: deps.db,
    params,
    channels,
    earnings,
    node: node ? getAddress(node.address) : null,
    payments: () => requireNode().payments,
    epochs: () => requireNode().epochs,

    /** A voucher sent on its own, to the node's channels. */
    acceptVoucher: (channelId: bigint, v: { amount: bigint; signature: `0x${string}` }) =>
      channels.acceptVoucher(channelId, requireNode().node.address, v),

    /** The most a request can cost and how it splits, before anything is spent. */
    async quote(model: PayableModel, inputTokens: number, maxOutputTokens: number) {
      const p = await params();
      const prices = pricesOf(model);
      return { prices, params: p, ...computeFee(p, prices, inputTokens, maxOutputTokens) };
    },

    /**
     * Redeems, every `intervalMs`, the vouchers of this node's channels that expire within `withinSeconds` (or
     * already did): the escrow lets the user close a channel after expiry plus the settlement grace, and a closed
     * channel's vouchers are worthless, so the node does not wait for an epoch to close. Returns a stop function.
     */
    startRedeemer(o: { intervalMs?: number; withinSeconds?: bigint } = {}): () => Promise<void> {
      if (!keyed) return async () => {};
      const e = keyed.epochs;
      let running: Promise<unknown> | undefined;
      const timer = setInterval(() => {
        running ??= e
          .redeemExpiring(o.withinSeconds ?? 600n)
          .then(
            (r) => {
              if (r.redeemed > 0) log.info(r, 'redeemed vouchers of channels close to expiry');
            },
            (err: unknown) => log.warn({ err }, 'redeeming vouchers of channels close to expiry failed; retrying'),
          )
          .finally(() => {
            running = undefined;
          });
      }, o.intervalMs ?? 30_000);
      timer.unref();
      return async () => {
        clearInterval(timer);
        await running;
      };
    },

    /** Whether the node's key holds enough validator stake to post epochs (the chain checks it too). */
    async canPost(): Promise<boolean> {
      if (!node) return false;
      return deps.clients.public.readContract({
        address: deps.deployment.contracts.Staking,
        abi: StakingArtifact.abi,
        functionName: 'isEligible',
        args: [node.address, stakingRoles.validator],
      });
    },

    /** Hooks for serving: authorize before generation, settle after, abort on failure. */
    hooks(): PaymentHooks<PaymentReservation | null> {
      return {
        authorize: async (r) => {
          if (keyed) return keyed.payments.authorize(r);
          // Without a key, free models are still served; a paid one is refused for want of a key.
          const q = await this.quote(r.model, r.promptTokens, r.maxTokens);
          if (q.fee > 0n) requireNode();
          return null;
        },
        settle: async (r) => (keyed ? keyed.payments.settle(r) : null),
        abort: async (a) => keyed?.payments.abort(a),
      };
    },
  };
}

export type Settlement = ReturnType<typeof createSettlement>;
