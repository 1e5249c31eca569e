/**
 * Payment channels as this node sees them: the escrow's events mirrored (deposits, redemptions, closes), plus
 * what the node has charged, what it has reserved for requests in flight, and the latest voucher it holds.
 *
 * Payment rule: each request is authorized by the channel's user (a RequestAuthorization of its body, with a fee
 * cap and a nonce above the last one used), carries a voucher for everything charged before it (exact cumulative
 * amounts, so nobody pays for tokens never generated), and the channel must hold enough for the request's maximum
 * fee. A user who walks away owes at most one request; a node never serves beyond the deposit; someone who only
 * knows a channel's id spends nothing on it.
 */
import { type Address, getAddress, type Hex, isAddressEqual } from 'viem';
import {
  type ChainClients,
  type ContractName,
  contractStream,
  createEventMirror,
  type Deployment,
  type EventMirror,
  eachLog,
  InferenceEscrowArtifact,
  type MirrorLog,
} from '../chain/index.js';
import { BaseError, type Logger } from '../core/index.js';
import { chainCursorStore, type Db, type Queryable } from '../store/index.js';
import { paymentHeaders, requestAuthorizationSigner, voucherSigner } from './vouchers.js';

const CURSOR = 'InferenceEscrow' satisfies ContractName;

export interface ChannelRecord {
  id: bigint;
  user: Address;
  node: Address;
  deposit: bigint;
  expiresAt: bigint;
  closed: boolean;
  redeemed: bigint;
  charged: bigint;
  reserved: bigint;
  voucherAmount: bigint;
  voucherSignature: Hex | null;
  /** The highest request-authorization nonce used on the channel (0: none yet). */
  authNonce: bigint;
}

type Row = {
  id: bigint;
  user_address: Address;
  node: Address;
  deposit: string;
  expires_at: bigint;
  closed: boolean;
  redeemed: string;
  charged: string;
  reserved: string;
  voucher_amount: string;
  voucher_signature: Hex | null;
  auth_nonce: string;
};

const toRecord = (r: Row): ChannelRecord => ({
  id: r.id,
  user: r.user_address,
  node: r.node,
  deposit: BigInt(r.deposit),
  expiresAt: r.expires_at,
  closed: r.closed,
  redeemed: BigInt(r.redeemed),
  charged: BigInt(r.charged),
  reserved: BigInt(r.reserved),
  voucherAmount: BigInt(r.voucher_amount),
  voucherSignature: r.voucher_signature,
  authNonce: BigInt(r.auth_nonce),
});

/** A request's authorization as read from its header, with the hash of the body it came with. */
export interface RequestAuthorizationInput {
  requestHash: Hex;
  maxFee: bigint;
  nonce: bigint;
  signature: Hex;
}

const DOCS = 'docs/settlement.md#paying-for-a-request';

const replayed = (channelId: bigint, nonce: bigint, last: bigint) =>
  new BaseError(
    'UNAUTHORIZED',
    `${paymentHeaders.authorization} nonce ${nonce} on channel ${channelId} is not above the last one used (${last}): it was used already; sign this request with a new nonce`,
    {
      details: { field: paymentHeaders.authorization, nonce: nonce.toString(), authNonce: last.toString() },
      docsPath: DOCS,
    },
  );

type EscrowLog = MirrorLog<typeof InferenceEscrowArtifact.abi>;

/**
 * The escrow's events mirrored into `channels` (through the chain-event mirror, src/chain): who opened each channel
 * for which node, its deposit and expiry, what the chain redeemed, and whether the user closed it. The columns the
 * node writes itself (charged, reserved, voucher, authorization nonce) are never touched by the mirror.
 *
 * When the chain replaces mirrored blocks, the rollback re-derives the chain's columns from the escrow's events up
 * to the common ancestor, in one transaction: every channel is marked closed with nothing redeemed, then the events
 * open, top up, redeem and close them again. A channel the ancestor's chain does not have stays closed (the node
 * serves nothing more on it, and keeps what it charged and the vouchers it holds); one the new blocks open for
 * another user or node stays closed too (reported). A deposit is never set below what the node has charged,
 * reserved or holds a voucher for (the table's invariants): should the chain's deposit end below that, the channel
 * has no room left.
 */
export function createChannelMirror(db: Db, clients: ChainClients, deployment: Deployment, log?: Logger): EventMirror {
  async function apply(tx: Queryable, e: EscrowLog): Promise<void> {
    switch (e.eventName) {
      case 'ChannelOpened': {
        const a = e.args;
        const { rowCount } = await tx.query(
          `INSERT INTO channels (id, user_address, node, deposit, expires_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (id) DO UPDATE SET
             deposit = greatest(EXCLUDED.deposit, channels.charged + channels.reserved, channels.voucher_amount),
             expires_at = EXCLUDED.expires_at, closed = false, redeemed = 0
           WHERE channels.user_address = EXCLUDED.user_address AND channels.node = EXCLUDED.node`,
          [a.channelId.toString(), a.user, a.node, a.deposit.toString(), a.expiresAt.toString()],
        );
        if (rowCount === 0) {
          log?.error(
            { channelId: a.channelId.toString(), user: a.user, node: a.node },
            'the chain opened a channel this node knows for another user or node: it stays closed here',
          );
        }
        return;
      }
      case 'ChannelToppedUp':
        await tx.query(
          `UPDATE channels SET deposit = greatest($2, charged + reserved, voucher_amount), expires_at = $3 WHERE id = $1`,
          [e.args.channelId.toString(), e.args.deposit.toString(), e.args.expiresAt.toString()],
        );
        return;
      case 'VoucherRedeemed':
        await tx.query('UPDATE channels SET redeemed = greatest(redeemed, $2) WHERE id = $1', [
          e.args.channelId.toString(),
          e.args.cumulativeAmount.toString(),
        ]);
        return;
      case 'ChannelClosedByUser':
        await tx.query('UPDATE channels SET closed = true WHERE id = $1', [e.args.channelId.toString()]);
        return;
      default:
        return;
    }
  }

  return createEventMirror({
    ...contractStream(deployment, CURSOR, InferenceEscrowArtifact.abi),
    client: clients.public,
    store: chainCursorStore(db, CURSOR),
    ...(log ? { log } : {}),
    apply: eachLog(apply),
    async rollback(tx, r) {
      await tx.query('UPDATE channels SET closed = true, redeemed = 0');
      await r.replay();
    },
  });
}

export function createChannels(db: Db, clients: ChainClients, deployment: Deployment, log?: Logger) {
  const domain = { chainId: deployment.chainId, escrow: deployment.contracts.InferenceEscrow };
  const mirror = createChannelMirror(db, clients, deployment, log);
  /** Reads new escrow events (rolling back replaced blocks first); concurrent calls share one pass. */
  const sync = (): Promise<number> => mirror.sync();

  async function find(id: bigint): Promise<ChannelRecord | undefined> {
    const { rows } = await db.query<Row>('SELECT * FROM channels WHERE id = $1', [id.toString()]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async function get(id: bigint): Promise<ChannelRecord> {
    const c = (await find(id)) ?? (await sync().then(() => find(id)));
    if (!c)
      throw new BaseError('NOT_FOUND', `No payment channel ${id} on chain ${deployment.chainId}`, {
        details: { channelId: id.toString() },
      });
    return c;
  }

  /** Keeps a newer voucher after checking it is the channel user's, for this node, escrow and chain. */
  async function takeVoucher(c: ChannelRecord, v: { amount: bigint; signature: Hex }): Promise<ChannelRecord> {
    if (v.amount > c.deposit) {
      throw new BaseError('PAYMENT_REQUIRED', `Voucher for ${v.amount} exceeds the channel's deposit of ${c.deposit}`, {
        details: { field: 'voucher' },
      });
    }
    const signer = voucherSigner(domain, { channelId: c.id, node: c.node, cumulativeAmount: v.amount }, v.signature);
    if (!signer || !isAddressEqual(signer, c.user)) {
      throw new BaseError(
        'UNAUTHORIZED',
        `Voucher is not signed by channel ${c.id}'s user ${c.user} for this node, escrow and chain`,
        {
          details: { field: 'voucher', recovered: signer ?? null },
        },
      );
    }
    await db.query(
      'UPDATE channels SET voucher_amount = $2, voucher_signature = $3 WHERE id = $1 AND voucher_amount < $2',
      [c.id.toString(), v.amount.toString(), v.signature],
    );
    return get(c.id);
  }

  /** Refuses (UNAUTHORIZED) a request authorization not signed by the channel's user for this body, or replayed. */
  function checkAuthorization(c: ChannelRecord, a: RequestAuthorizationInput): void {
    const field = paymentHeaders.authorization;
    const signer = requestAuthorizationSigner(
      domain,
      { channelId: c.id, node: c.node, requestHash: a.requestHash, maxFee: a.maxFee, nonce: a.nonce },
      a.signature,
    );
    if (!signer || !isAddressEqual(signer, c.user)) {
      throw new BaseError(
        'UNAUTHORIZED',
        `${field} is not signed by channel ${c.id}'s user ${c.user} for this request body, node, escrow and chain`,
        { details: { field, recovered: signer ?? null }, docsPath: DOCS },
      );
    }
    if (a.nonce <= c.authNonce) throw replayed(c.id, a.nonce, c.authNonce);
  }

  return {
    sync,
    /** Where the escrow mirror stands (last applied block and hash). */
    status: () => mirror.status(),
    get,
    domain,

    /** A voucher sent on its own (to pay for the last request without making another). */
    async acceptVoucher(
      channelId: bigint,
      node: Address,
      v: { amount: bigint; signature: Hex },
    ): Promise<ChannelRecord> {
      const c = await get(channelId);
      if (!isAddressEqual(c.node, node)) {
        throw new BaseError(
          'PAYMENT_REQUIRED',
          `Channel ${channelId} pays node ${c.node}, not this node (${getAddress(node)})`,
          { details: { field: 'channel' } },
        );
      }
      return v.amount > c.voucherAmount ? takeVoucher(c, v) : c;
    },

    /**
     * Before serving: checks the channel user's authorization of this request (signer, body, fee cap, nonce), takes
     * the voucher (if any), checks that everything charged so far is paid, and reserves the request's maximum fee
     * while using up the authorization's nonce, in one statement. Throws UNAUTHORIZED for an authorization that is
     * not the user's or was used before, PAYMENT_REQUIRED saying exactly what is missing otherwise; nothing is
     * reserved or charged when it throws.
     */
    async reserve(o: {
      channelId: bigint;
      node: Address;
      authorization: RequestAuthorizationInput;
      voucher?: { amount: bigint; signature: Hex };
      maxFee: bigint;
      nowSeconds: bigint;
    }): Promise<ChannelRecord> {
      let c = await get(o.channelId);
      if (!isAddressEqual(c.node, o.node)) {
        throw new BaseError(
          'PAYMENT_REQUIRED',
          `Channel ${o.channelId} pays node ${c.node}, not this node (${getAddress(o.node)})`,
          { details: { field: 'channel' } },
        );
      }
      if (c.closed)
        throw new BaseError('PAYMENT_REQUIRED', `Channel ${o.channelId} is closed`, { details: { field: 'channel' } });
      // The node needs time to redeem before the user may close.
      if (c.expiresAt <= o.nowSeconds + 60n) {
        throw new BaseError(
          'PAYMENT_REQUIRED',
          `Channel ${o.channelId} expires at ${c.expiresAt}; top it up to extend it`,
          { details: { field: 'channel' } },
        );
      }
      checkAuthorization(c, o.authorization);
      if (o.maxFee > o.authorization.maxFee) {
        throw new BaseError(
          'PAYMENT_REQUIRED',
          `This request may cost up to ${o.maxFee} wei, above the ${o.authorization.maxFee} wei its ${paymentHeaders.authorization} allows: lower max_tokens or sign a higher cap`,
          { details: { field: paymentHeaders.authorization, maxFee: o.maxFee.toString() } },
        );
      }
      if (o.voucher && o.voucher.amount > c.voucherAmount) c = await takeVoucher(c, o.voucher);
      if (c.voucherAmount < c.charged) {
        throw new BaseError(
          'PAYMENT_REQUIRED',
          `Channel ${o.channelId} owes ${c.charged} wei for earlier requests: send a voucher for cumulative amount ${c.charged}`,
          {
            details: { field: 'voucher', charged: c.charged.toString(), voucherAmount: c.voucherAmount.toString() },
          },
        );
      }
      // The nonce is used up only if the reservation is made, and only once: a concurrent replay finds it raised.
      const { rows } = await db.query<Row>(
        `UPDATE channels SET reserved = reserved + $2, auth_nonce = $3
          WHERE id = $1 AND auth_nonce < $3 AND deposit - charged - reserved >= $2 RETURNING *`,
        [o.channelId.toString(), o.maxFee.toString(), o.authorization.nonce.toString()],
      );
      if (!rows[0]) {
        c = (await find(o.channelId)) ?? c;
        if (o.authorization.nonce <= c.authNonce) throw replayed(c.id, o.authorization.nonce, c.authNonce);
        throw new BaseError(
          'PAYMENT_REQUIRED',
          `Channel ${o.channelId} has ${c.deposit - c.charged - c.reserved} wei left; this request may cost ${o.maxFee}: top it up`,
          {
            details: {
              field: 'channel',
              left: (c.deposit - c.charged - c.reserved).toString(),
              maxFee: o.maxFee.toString(),
            },
          },
        );
      }
      return toRecord(rows[0]);
    },

    /** Releases a reservation without charging (the request failed). */
    async release(channelId: bigint, maxFee: bigint): Promise<void> {
      await db.query('UPDATE channels SET reserved = reserved - $2 WHERE id = $1', [
        channelId.toString(),
        maxFee.toString(),
      ]);
    },

    /** Turns a reservation into a charge; returns the channel's cumulative charge after it. Runs inside `tx`. */
    async charge(tx: Queryable, channelId: bigint, maxFee: bigint, fee: bigint): Promise<bigint> {
      const { rows } = await tx.query<{ charged: string }>(
        'UPDATE channels SET reserved = reserved - $2, charged = charged + $3 WHERE id = $1 RETURNING charged',
        [channelId.toString(), maxFee.toString(), fee.toString()],
      );
      return BigInt(rows[0]?.charged ?? '0');
    },
  };
}

export type Channels = ReturnType<typeof createChannels>;
