/**
 * Stage "adversarial": the attacks that broke settlement before (issue 10), run against the demo deployment as an
 * attacker with a few thousand OPEN would, each reported "blocked" or "succeeded". The stage fails if any succeeds.
 *
 *   unbondEscape       a validator with the minimum stake posts a root over more than its own fees, then posts over
 *                      its own and unstakes in the same breath; governance upholds a challenge after the old 7-day
 *                      unbonding: the slash must land.
 *   closeBeforeRedeem  a user on a short channel is served, then tries to close at expiry for a full refund; a
 *                      second channel is closed while the node is away: the node's next epoch must still settle.
 *   claimBeyondTotal   a root declaring 1 wei whose leaf pays the attacker its fees plus a challenger's bond.
 *   epochSquat         another validator posts the demo node's next epoch number first.
 *   strangerSpend      someone who knows only the demo user's channel id asks a paid question on it.
 */
import { type Address, type Hex, type LocalAccount, zeroHash } from 'viem';
import {
  advanceTime,
  type ChainClients,
  type Deployment,
  devAccount,
  devRoles,
  InferenceEscrowArtifact,
  merkleTree,
  OPEN,
  OpenTokenArtifact,
  ProtocolConfigArtifact,
  RewardDistributorArtifact,
  StakingArtifact,
  sendTx,
  stakeFromDeployer,
  stakingRoles,
} from '../../../chain/index.js';
import { BaseError, toBaseError } from '../../../core/index.js';
import { createNodeClient, openloraApi, settlementApi } from '../../../protocol/index.js';
import {
  createPayingFetch,
  openChannel,
  payoutLeaf,
  signVoucher,
  tryWithoutAuthorization,
} from '../../../settlement/index.js';
import type { DemoStage } from '../context.js';
import { DEMO_USER, demoPayer } from '../payer.js';
import { DEMO_MODEL } from './factory.js';

type Outcome = 'blocked' | 'succeeded';
const ATTACKER = 15;
const CLAIMER = 16;
const SQUATTER = 17;
const STRANGER = 18;
const VALIDATOR_MINIMUM = 10_000n * OPEN;

/** The custom error a transaction reverted with, or null if it went through. */
async function revertOf(p: Promise<unknown>): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (e) {
    const err = toBaseError(e);
    if (err.code !== 'CONTRACT_REVERTED') throw err;
    return String(err.details?.error ?? 'reverted');
  }
}

function contracts(d: Deployment) {
  return {
    token: { address: d.contracts.OpenToken, abi: OpenTokenArtifact.abi, contract: 'OpenToken' },
    staking: { address: d.contracts.Staking, abi: StakingArtifact.abi, contract: 'Staking' },
    distributor: {
      address: d.contracts.RewardDistributor,
      abi: RewardDistributorArtifact.abi,
      contract: 'RewardDistributor',
    },
    escrow: { address: d.contracts.InferenceEscrow, abi: InferenceEscrowArtifact.abi, contract: 'InferenceEscrow' },
  } as const;
}

/** Funds `who` from the deployer's liquidity and stakes it as a validator with exactly the minimum. */
function validatorWithMinimum(clients: ChainClients, d: Deployment, who: LocalAccount, extra: bigint) {
  return stakeFromDeployer(clients, d, who, 'validator', VALIDATOR_MINIMUM, extra);
}

/** The attacker pays its own node through a channel, so the distributor books `amount` of fees to it. */
async function selfFees(clients: ChainClients, d: Deployment, who: LocalAccount, amount: bigint) {
  const c = contracts(d);
  const channelId = await openChannel({
    clients,
    deployment: d,
    user: who,
    node: who.address,
    deposit: amount,
    durationSeconds: 30 * 86_400,
  });
  const signature = await signVoucher(
    who,
    { chainId: d.chainId, escrow: c.escrow.address },
    { channelId, node: who.address, cumulativeAmount: amount },
  );
  await sendTx(clients, who, { ...c.escrow, functionName: 'redeem', args: [channelId, amount, signature] });
}

/** A one-leaf payout root (the OpenZeppelin standard tree of a single leaf is the leaf). */
function oneLeafRoot(account: Address, amount: bigint): Hex {
  return merkleTree([payoutLeaf(account, amount)]).root;
}

export const adversarialStage: DemoStage = {
  name: 'adversarial',
  async run({ node, out }) {
    const { clients, deployment: d } = node.chain;
    const c = contracts(d);
    const demoNode = node.nodeAddress;
    if (!demoNode)
      throw new BaseError('CONFIG_INVALID', 'the demo node has no key to be paid with', {
        details: { field: 'nodeKey' },
      });
    const deployer = devAccount(devRoles.deployer);
    const read = clients.public.readContract;
    const params = await node.settlement.params();
    const bond = await read({
      address: d.contracts.ProtocolConfig,
      abi: ProtocolConfigArtifact.abi,
      functionName: 'challengeBond',
    });
    const attacks: Record<string, Outcome> = {};
    const figures: Record<string, unknown> = {};

    // ---- unbondEscape --------------------------------------------------------------------------------------
    {
      const attacker = devAccount(ATTACKER);
      await validatorWithMinimum(clients, d, attacker, 100n * OPEN);
      await selfFees(clients, d, attacker, 100n * OPEN);
      const everything = await read({ ...c.token, functionName: 'balanceOf', args: [c.distributor.address] });
      const grab = await revertOf(
        sendTx(clients, attacker, {
          ...c.distributor,
          functionName: 'postEpoch',
          args: [1n, oneLeafRoot(attacker.address, everything), everything, zeroHash, 'bafy-attack'],
        }),
      );
      const own = 100n * OPEN;
      await sendTx(clients, attacker, {
        ...c.distributor,
        functionName: 'postEpoch',
        args: [1n, oneLeafRoot(attacker.address, own), own, zeroHash, 'bafy-attack'],
      });
      const unstake = await revertOf(
        sendTx(clients, attacker, {
          ...c.staking,
          functionName: 'requestUnstake',
          args: [stakingRoles.validator, VALIDATOR_MINIMUM],
        }),
      );
      // A watcher challenges; governance needs longer than the old 7-day unbonding; its verdict must still bite.
      await sendTx(clients, deployer, { ...c.token, functionName: 'approve', args: [c.staking.address, 100n * OPEN] });
      await sendTx(clients, deployer, { ...c.staking, functionName: 'stake', args: [stakingRoles.agent, 100n * OPEN] });
      await sendTx(clients, deployer, {
        ...c.token,
        functionName: 'approve',
        args: [c.distributor.address, bond],
      });
      await sendTx(clients, deployer, { ...c.distributor, functionName: 'challenge', args: [attacker.address, 1n] });
      await advanceTime(clients, 8 * 86_400);
      const stakeBefore = await read({ ...c.staking, functionName: 'slashableOf', args: [attacker.address, 0] });
      const timelock = d.contracts.Timelock;
      await clients.test().impersonateAccount({ address: timelock });
      await clients.test().setBalance({ address: timelock, value: 10n ** 18n });
      await sendTx(clients, timelock, {
        ...c.distributor,
        functionName: 'resolveChallenge',
        args: [
          attacker.address,
          1n,
          true,
          { payoutRoot: zeroHash, cumulativeTotal: 0n, receiptsRoot: zeroHash, receiptsCID: '' },
          0n,
        ],
      });
      await clients.test().stopImpersonatingAccount({ address: timelock });
      const slashed =
        stakeBefore - (await read({ ...c.staking, functionName: 'slashableOf', args: [attacker.address, 0] }));
      attacks.unbondEscape =
        grab === 'ExceedsFees' && unstake === 'StakeLocked' && slashed >= own ? 'blocked' : 'succeeded';
      figures.unbondEscape = {
        grabDistributorBalance: grab,
        unstakeWhilePosted: unstake,
        slashedWei: slashed.toString(),
      };
      out.note(
        `  unbondEscape: posting the distributor's balance → ${grab}; unstaking behind a posted epoch → ${unstake}; slash after 8 days: ${slashed} wei`,
      );
    }

    // ---- closeBeforeRedeem ------------------------------------------------------------------------------------
    const user = devAccount(DEMO_USER);
    const domain = { chainId: d.chainId, escrow: c.escrow.address };
    const ask = async (channelId: bigint, questions: string[]) => {
      const paying = createPayingFetch({ user, channelId, node: demoNode, domain, authNonce: 0n });
      const client = createNodeClient(node.api, { fetch: paying.fetch });
      for (const q of questions)
        await client.call(openloraApi.createChatCompletion, {
          body: { model: DEMO_MODEL, max_tokens: 8, messages: [{ role: 'user', content: q }] },
        });
      await paying.payUp(node.api);
      return paying.charged();
    };
    const shortChannel = () =>
      openChannel({ clients, deployment: d, user, node: demoNode, deposit: 5n * OPEN, durationSeconds: 7_200 });
    const grace = Number(await read({ ...c.escrow, functionName: 'settlementGrace' }));
    // A channel whose user closes while the node is away (after expiry and the grace): its receipts can never be
    // redeemed, and must not wedge the node's next epoch.
    const away = await shortChannel();
    const unpaid = await ask(away, ['What is Venus?']);
    await advanceTime(clients, 7_200 + grace + 1);
    await sendTx(clients, user, { ...c.escrow, functionName: 'close', args: [away] });
    const awayRedeemed = (await read({ ...c.escrow, functionName: 'getChannel', args: [away] })).redeemed;
    // A channel whose user tries to close the moment it expires, for a full refund of answers already served.
    const served = await shortChannel();
    const charged = await ask(served, ['What is the Sun?', 'What is Mars?']);
    await advanceTime(clients, 7_200 + 1);
    const early = await revertOf(sendTx(clients, user, { ...c.escrow, functionName: 'close', args: [served] }));
    // What the node's background redeemer does for channels close to expiry (it runs every 30 s).
    await node.settlement.epochs().redeemExpiring(600n);
    const redeemed = (await read({ ...c.escrow, functionName: 'getChannel', args: [served] })).redeemed;
    await advanceTime(clients, grace + 1);
    await sendTx(clients, user, { ...c.escrow, functionName: 'close', args: [served] });

    // ---- epochSquat (before the demo node's next close) ---------------------------------------------------------
    const squatter = devAccount(SQUATTER);
    await validatorWithMinimum(clients, d, squatter, 0n);
    const before = await read({ ...c.distributor, functionName: 'nodeState', args: [demoNode] });
    const squatNumber = before.epochCount + 1n;
    const squat = await revertOf(
      sendTx(clients, squatter, {
        ...c.distributor,
        functionName: 'postEpoch',
        args: [squatNumber, oneLeafRoot(squatter.address, 0n), 0n, zeroHash, 'bafy-squat'],
      }),
    );
    // What the squatter can post is its own sequence's first epoch (if the squat was not already that), nothing of
    // the node's.
    if (squat !== null) {
      await sendTx(clients, squatter, {
        ...c.distributor,
        functionName: 'postEpoch',
        args: [1n, oneLeafRoot(squatter.address, 0n), 0n, zeroHash, 'bafy-squat'],
      });
    }
    const ops = createNodeClient(node.api, { headers: { authorization: `Bearer ${node.operatorToken}` } });
    const closed = await ops.call(settlementApi.closeEpoch).catch((e: unknown) => toBaseError(e));
    const posted =
      !(closed instanceof BaseError) &&
      (await read({ ...c.distributor, functionName: 'getEpoch', args: [demoNode, BigInt(closed.epoch)] }))
        .payoutRoot === closed.payoutRoot;
    const unredeemable = await node.settlement.epochs().unredeemable();
    const leftOut = unredeemable.filter((r) => r.channelId === away).length;
    attacks.epochSquat =
      posted && !(closed instanceof BaseError) && BigInt(closed.epoch) === squatNumber ? 'blocked' : 'succeeded';
    attacks.closeBeforeRedeem =
      early === 'InSettlementGrace' && redeemed === charged && posted && (awayRedeemed === unpaid || leftOut > 0)
        ? 'blocked'
        : 'succeeded';
    figures.closeBeforeRedeem = {
      closeAtExpiry: early,
      redeemedByNodeWei: redeemed.toString(),
      chargedWei: charged.toString(),
      nextEpochPosted: posted,
      receiptsLeftOut: leftOut,
    };
    figures.epochSquat = {
      squatterPost: squat ?? 'landed in the squatter’s own sequence',
      squatterOwnEpoch: 1,
      nodeEpoch: closed instanceof BaseError ? closed.message : closed.epoch,
    };
    out.note(
      `  closeBeforeRedeem: close at expiry → ${early}; node redeemed ${redeemed} of ${charged} wei; a channel closed while the node was away left ${leftOut} receipt(s) out; next epoch posted: ${posted}`,
    );
    out.note(
      `  epochSquat: another validator posting epoch ${squatNumber} → ${squat ?? 'its own sequence'}; the node posted its epoch ${closed instanceof BaseError ? `✗ ${closed.message}` : closed.epoch}`,
    );

    // ---- claimBeyondTotal -----------------------------------------------------------------------------------------
    {
      const claimer = devAccount(CLAIMER);
      await validatorWithMinimum(clients, d, claimer, 1n * OPEN);
      await selfFees(clients, d, claimer, 1n * OPEN);
      // A watcher's bond sits in the distributor (it challenges the squatter's epoch): the attack aims at it.
      await sendTx(clients, deployer, { ...c.token, functionName: 'approve', args: [c.distributor.address, bond] });
      await sendTx(clients, deployer, { ...c.distributor, functionName: 'challenge', args: [squatter.address, 1n] });
      const bondsHeld = await read({ ...c.distributor, functionName: 'bondsHeld' });
      const balanceBefore = await read({ ...c.token, functionName: 'balanceOf', args: [c.distributor.address] });
      const leaf = 1n * OPEN + bond;
      await sendTx(clients, claimer, {
        ...c.distributor,
        functionName: 'postEpoch',
        args: [1n, oneLeafRoot(claimer.address, leaf), 1n, zeroHash, 'bafy-claim'],
      });
      await advanceTime(clients, Number(params.challengeWindow) + 1);
      await sendTx(clients, claimer, { ...c.distributor, functionName: 'finalize', args: [claimer.address, 1n] });
      const claim = await revertOf(
        sendTx(clients, claimer, {
          ...c.distributor,
          functionName: 'claim',
          args: [claimer.address, claimer.address, leaf, []],
        }),
      );
      const balanceAfter = await read({ ...c.token, functionName: 'balanceOf', args: [c.distributor.address] });
      const bondsAfter = await read({ ...c.distributor, functionName: 'bondsHeld' });
      attacks.claimBeyondTotal =
        claim === 'ExceedsDeclaredTotal' &&
        balanceAfter === balanceBefore &&
        bondsAfter === bondsHeld &&
        bondsHeld >= bond
          ? 'blocked'
          : 'succeeded';
      figures.claimBeyondTotal = {
        claim,
        bondsHeldWei: bondsAfter.toString(),
        distributorKept: balanceAfter === balanceBefore,
      };
      out.note(`  claimBeyondTotal: claiming ${leaf} wei under a root declaring 1 wei → ${claim}`);
    }

    // ---- strangerSpend ------------------------------------------------------------------------------------------
    {
      const { channelId } = await demoPayer(node);
      const api = createNodeClient(node.api);
      const channel = () => api.call(settlementApi.getChannel, { params: { id: channelId } });
      const was = await channel();
      const tried = await tryWithoutAuthorization({
        api: node.api,
        channelId,
        body: { model: DEMO_MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'What is Jupiter?' }] },
      });
      // A stranger who signs with its own key is refused too.
      const stranger = devAccount(STRANGER);
      const forged = createPayingFetch({ user: stranger, channelId, node: demoNode, domain, authNonce: 1_000_000n });
      const res = await forged.fetch(`${node.api}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: DEMO_MODEL,
          max_tokens: 8,
          messages: [{ role: 'user', content: 'What is Saturn?' }],
        }),
      });
      const now = await channel();
      const untouched = now.chargedWei === was.chargedWei && now.reservedWei === was.reservedWei;
      attacks.strangerSpend = tried.status >= 400 && res.status >= 400 && untouched ? 'blocked' : 'succeeded';
      figures.strangerSpend = {
        withoutAuthorization: tried.status,
        signedByStranger: res.status,
        channelUntouched: untouched,
      };
      out.note(
        `  strangerSpend: no authorization → ${tried.status}; a stranger's signature → ${res.status}; channel charged unchanged: ${untouched}`,
      );
    }

    const succeeded = Object.entries(attacks).filter(([, v]) => v === 'succeeded');
    if (succeeded.length > 0) {
      throw new BaseError('INTERNAL', `attacks succeeded: ${succeeded.map(([k]) => k).join(', ')}`, {
        details: { attacks, figures },
      });
    }
    return { attacks, ...figures };
  },
};
