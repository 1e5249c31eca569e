/**
 * The paying side: open a channel (one permit-backed transaction), then send requests through a `fetch` that adds
 * the channel, the user's authorization of each request and a voucher for everything charged so far. Works with any OpenAI client that accepts a custom
 * fetch. The user signs only amounts backed by node-signed receipts it has seen (or, after a restart, the node's
 * account of the channel, capped by the deposit the user chose).
 */
import { type Address, type Hex, type LocalAccount, parseEventLogs } from 'viem';
import { z } from 'zod';
import {
  type ChainClients,
  type Deployment,
  type DeploymentAddresses,
  InferenceEscrowArtifact,
  OpenTokenArtifact,
  ProtocolConfigArtifact,
  RewardDistributorArtifact,
  sendTx,
  signPermit,
} from '../chain/index.js';
import { BaseError } from '../core/index.js';
import { errorBody, uintString } from '../protocol/index.js';
import {
  encodeVoucherHeader,
  NO_FEE_CAP,
  paidRequestHeaders,
  paymentHeaders,
  signVoucher,
  type VoucherDomain,
} from './vouchers.js';

/**
 * What a client learns from an answer: the new total charged on the channel and the fee, from the `tributary`
 * field's payment (openloraApi.paymentSummary), read leniently — only these fields, the fee 0 when absent.
 */
const paymentReport = z.object({
  tributary: z.object({
    requestId: z.string().optional(),
    payment: z.object({ charged: uintString, fee: uintString.default(0n) }).optional(),
  }),
});

export interface OpenChannelInput {
  clients: ChainClients;
  deployment: DeploymentAddresses;
  user: LocalAccount;
  node: Address;
  deposit: bigint;
  durationSeconds: number;
}

/** Opens a channel with a permit (no separate approval); returns its id. */
export async function openChannel(o: OpenChannelInput): Promise<bigint> {
  const token = { address: o.deployment.contracts.OpenToken, abi: OpenTokenArtifact.abi } as const;
  const escrow = o.deployment.contracts.InferenceEscrow;
  const nonce = await o.clients.public.readContract({ ...token, functionName: 'nonces', args: [o.user.address] });
  const block = await o.clients.public.getBlock();
  const deadline = block.timestamp + 3600n;
  const [, , , , v, r, s] = await signPermit(o.user, {
    chainId: o.deployment.chainId,
    token: token.address,
    spender: escrow,
    value: o.deposit,
    nonce,
    deadline,
  });
  const receipt = await sendTx(o.clients, o.user, {
    address: escrow,
    abi: InferenceEscrowArtifact.abi,
    contract: 'InferenceEscrow',
    functionName: 'openChannelWithPermit',
    args: [o.node, o.deposit, BigInt(o.durationSeconds), deadline, v, r, s],
  });
  const [opened] = parseEventLogs({ abi: InferenceEscrowArtifact.abi, eventName: 'ChannelOpened', logs: receipt.logs });
  if (!opened) throw new BaseError('INTERNAL', 'openChannelWithPermit succeeded without a ChannelOpened event');
  return opened.args.channelId;
}

/** Takes back what the node did not redeem, once the channel has expired. */
export function closeChannel(
  clients: ChainClients,
  deployment: DeploymentAddresses,
  user: LocalAccount,
  channelId: bigint,
) {
  return sendTx(clients, user, {
    address: deployment.contracts.InferenceEscrow,
    abi: InferenceEscrowArtifact.abi,
    contract: 'InferenceEscrow',
    functionName: 'close',
    args: [channelId],
  });
}

export interface PayingFetchOptions {
  user: LocalAccount;
  channelId: bigint;
  node: Address;
  domain: VoucherDomain;
  /** What was already charged on this channel (e.g. from GET /v1/channels/:id after a restart). */
  charged?: bigint;
  /** The last authorization nonce used on the channel (GET /v1/channels/:id gives authNonce; 0 for a new one). */
  authNonce?: bigint;
  /** The most one request may cost: sent as a cap (refused before generation if exceeded). */
  maxFee?: bigint;
  /** The fee cap signed into each request's authorization (default: maxFee, else no cap). */
  authorizationCap?: bigint;
  fetch?: typeof fetch;
}

/**
 * CONFLICT unless a node's new total for a channel is exactly what was owed before plus this answer's fee, within
 * the signed cap: a client signs vouchers only for charges it made.
 */
export function unaccountedCharge(o: {
  channelId: bigint;
  before: bigint;
  reported: bigint;
  fee: bigint;
  cap: bigint;
  requestId?: string | undefined;
}): BaseError | undefined {
  const owed = o.before + o.fee;
  if (o.reported === owed && o.fee <= o.cap) return undefined;
  return new BaseError(
    'CONFLICT',
    `The node reports ${o.reported} wei charged on channel ${o.channelId} after request ${o.requestId ?? '(unknown)'}, but you owed ${o.before} before it and it cost ${o.fee} (cap ${o.cap}): no voucher signed`,
    {
      details: {
        field: '--channel',
        ...(o.requestId ? { requestId: o.requestId } : {}),
        chargedWei: o.reported.toString(),
        expectedWei: owed.toString(),
      },
    },
  );
}

/**
 * A fetch that pays: on each request the channel header, the user's authorization of that exact body (fee cap and
 * the next nonce; requests go one after another so nonces arrive in order) and a voucher for everything charged so
 * far. It learns each new charge from the answer and vouches only for charges it can account for: a node that
 * reports a total other than the previous one plus this answer's fee gets no voucher for it (CONFLICT).
 */
export function createPayingFetch(o: PayingFetchOptions) {
  const inner = o.fetch ?? fetch;
  let charged = o.charged ?? 0n;
  let paidFees = 0n;
  let nonce = o.authNonce ?? 0n;
  let disputed: BaseError | undefined;
  const signed = new Map<bigint, Hex>();

  const cap = o.authorizationCap ?? o.maxFee ?? NO_FEE_CAP;
  const learn = (answer: unknown) => {
    const report = paymentReport.safeParse(answer);
    if (!report.success) return; // not a paid answer (or a chunk before the last): nothing to learn
    const { requestId, payment: p } = report.data.tributary;
    if (!p) return;
    const reported = p.charged;
    const fee = p.fee;
    if (reported === charged) return;
    disputed = unaccountedCharge({
      channelId: o.channelId,
      before: charged,
      reported,
      fee,
      cap,
      requestId,
    });
    if (disputed) return;
    charged = reported;
    paidFees += fee;
  };

  async function voucher(): Promise<string | undefined> {
    if (disputed) throw disputed;
    if (charged === 0n) return undefined;
    let sig = signed.get(charged);
    if (!sig) {
      sig = await signVoucher(o.user, o.domain, { channelId: o.channelId, node: o.node, cumulativeAmount: charged });
      signed.clear();
      signed.set(charged, sig);
    }
    return encodeVoucherHeader(charged, sig);
  }

  const paying: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    headers.set(paymentHeaders.channel, o.channelId.toString());
    const v = await voucher();
    if (v) headers.set(paymentHeaders.voucher, v);
    if (o.maxFee !== undefined) headers.set(paymentHeaders.maxFee, o.maxFee.toString());
    if (typeof init?.body === 'string') {
      let body: unknown;
      try {
        body = JSON.parse(init.body);
      } catch {
        body = undefined; // not JSON: nothing to authorize (the node refuses it anyway)
      }
      if (body !== undefined) {
        nonce += 1n;
        const paid = await paidRequestHeaders({
          user: o.user,
          domain: o.domain,
          channelId: o.channelId,
          node: o.node,
          body,
          maxFee: cap,
          nonce,
        });
        // The channel header (the same as above) and the authorization of this body.
        for (const [name, value] of Object.entries(paid)) headers.set(name, value);
      }
    }
    const res = await inner(input, { ...init, headers });
    const type = res.headers.get('content-type') ?? '';
    if (type.includes('application/json')) {
      learn(
        await res
          .clone()
          .json()
          .catch(() => null),
      );
      return res;
    }
    if (type.includes('text/event-stream') && res.body) {
      // The final chunk of a stream carries the payment; read it as the chunks pass through.
      let buffer = '';
      const decoder = new TextDecoder();
      const body = res.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            buffer += decoder.decode(chunk, { stream: true });
            let at = buffer.indexOf('\n');
            while (at >= 0) {
              const line = buffer.slice(0, at).trim();
              buffer = buffer.slice(at + 1);
              if (line.startsWith('data:') && line !== 'data: [DONE]') {
                try {
                  learn(JSON.parse(line.slice(5)));
                } catch {
                  // not JSON: passes through untouched
                }
              }
              at = buffer.indexOf('\n');
            }
            controller.enqueue(chunk);
          },
        }),
      );
      return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
    }
    return res;
  };

  return {
    fetch: paying,
    /** Sends a voucher for everything charged so far, paying for the last answer without another request. */
    async payUp(api: string): Promise<void> {
      const v = await voucher();
      if (!v) return;
      const res = await inner(`${api.replace(/\/+$/, '')}/v1/channels/${o.channelId}/voucher`, {
        method: 'POST',
        headers: { [paymentHeaders.voucher]: v },
      });
      if (!res.ok)
        throw new BaseError(
          'PAYMENT_REQUIRED',
          `The node refused the voucher for ${charged}: HTTP ${res.status} ${await res.text()}`,
        );
    },
    /** The cumulative amount charged on the channel as this client knows it. */
    charged: () => charged,
    /** Sum of fees this client paid through this fetch. */
    paidFees: () => paidFees,
    /** The last authorization nonce this client used. */
    authNonce: () => nonce,
  };
}

/**
 * What someone who knows only a channel's id gets when they try to spend on it: the request is sent with the
 * channel header and no authorization of the channel's user. The node answers 401 (`unauthorized`), naming
 * x-tributary-authorization, and serves, reserves and charges nothing.
 */
export async function tryWithoutAuthorization(o: {
  api: string;
  channelId: bigint;
  body: unknown;
  path?: string;
  headers?: Record<string, string>;
}): Promise<{ status: number; code: string | null; message: string | null }> {
  const res = await fetch(`${o.api.replace(/\/+$/, '')}${o.path ?? '/v1/chat/completions'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...o.headers, [paymentHeaders.channel]: o.channelId.toString() },
    body: JSON.stringify(o.body),
  });
  const body = errorBody.safeParse(await res.json().catch(() => null));
  const e = body.success ? body.data.error : undefined;
  return { status: res.status, code: e?.code ?? null, message: e?.message ?? null };
}

/**
 * Claims payouts under each node's final root in one transaction (anyone may send it): several accounts, and the
 * same account across several nodes.
 */
export async function claimPayouts(
  clients: ChainClients,
  deployment: DeploymentAddresses,
  sender: LocalAccount,
  payouts: { node: Address; account: Address; cumulative: bigint; proof: Hex[] }[],
) {
  const distributor = {
    address: deployment.contracts.RewardDistributor,
    abi: RewardDistributorArtifact.abi,
    contract: 'RewardDistributor',
  } as const;
  const [p] = payouts;
  if (p && payouts.length === 1) {
    return sendTx(clients, sender, {
      ...distributor,
      functionName: 'claim',
      args: [p.node, p.account, p.cumulative, p.proof],
    });
  }
  return sendTx(clients, sender, {
    ...distributor,
    functionName: 'claimMany',
    args: [payouts.map((p) => ({ node: p.node, account: p.account, cumulativeAmount: p.cumulative, proof: p.proof }))],
  });
}

/** Challenges a node's pending epoch during its window, approving and paying the bond (stakers only). */
export async function challengeEpoch(
  clients: ChainClients,
  deployment: Pick<Deployment, 'contracts'>,
  challenger: LocalAccount,
  node: Address,
  epoch: number,
) {
  const distributor = deployment.contracts.RewardDistributor;
  const bond = await clients.public.readContract({
    address: deployment.contracts.ProtocolConfig,
    abi: ProtocolConfigArtifact.abi,
    functionName: 'challengeBond',
  });
  if (bond > 0n) {
    await sendTx(clients, challenger, {
      address: deployment.contracts.OpenToken,
      abi: OpenTokenArtifact.abi,
      contract: 'OpenToken',
      functionName: 'approve',
      args: [distributor, bond],
    });
  }
  return sendTx(clients, challenger, {
    address: distributor,
    abi: RewardDistributorArtifact.abi,
    contract: 'RewardDistributor',
    functionName: 'challenge',
    args: [node, BigInt(epoch)],
  });
}
