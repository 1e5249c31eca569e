/**
 * InferenceEscrow: payment channels paid with cumulative EIP-712 vouchers. Opening (with an approval or a permit),
 * topping up, redeeming (fees straight to the RewardDistributor), closing with a refund once the settlement grace
 * after expiry has passed, and every refusal: a replayed or older voucher, one beyond the deposit, one signed by
 * someone else or bound to another channel, node, chain or escrow, malformed signatures, unknown and closed
 * channels, a close during the grace, a grace outside 1 hour .. 30 days.
 */
import {
  type Account,
  type Address,
  concat,
  type HDAccount,
  type Hex,
  hashTypedData,
  keccak256,
  type LocalAccount,
  maxUint256,
  parseEventLogs,
  parseSignature,
  recoverTypedDataAddress,
  serializeCompactSignature,
  serializeSignature,
  signatureToCompactSignature,
  stringToHex,
  type TransactionReceipt,
  toHex,
  zeroAddress,
} from 'viem';
import { describe, expect, it } from 'vitest';
import {
  contractError,
  deployContract,
  InferenceEscrowArtifact,
  OPEN,
  RewardDistributorArtifact,
  roleIds,
  signPermit,
} from '../src/chain/index.js';
import { expectRevert, send, type TestChain, useTestChain, warpTo } from '../test/fixtures/chain.js';

const chain = useTestChain();

const HOUR = 3_600n;
const DAY = 86_400n;
/** The deployment's settlement grace (src/chain/parameters.ts settlement.settlementGraceSeconds). */
const GRACE = DAY;
const MIN_GRACE = HOUR;
const MAX_GRACE = 30n * DAY;
/** secp256k1 group order: s and n − s both verify; OpenZeppelin accepts only the low one. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const voucherTypes = {
  Voucher: [
    { name: 'channelId', type: 'uint256' },
    { name: 'node', type: 'address' },
    { name: 'cumulativeAmount', type: 'uint256' },
  ],
} as const;

interface Voucher {
  channelId: bigint;
  node: Address;
  cumulativeAmount: bigint;
}

// ------------------------------------------------------------------------------------------------- helpers

const escrowAt = (address: Address) =>
  ({ address, abi: InferenceEscrowArtifact.abi, contract: 'InferenceEscrow' }) as const;
const escrow = (c: TestChain) => escrowAt(c.deployment.contracts.InferenceEscrow);
const distributor = (c: TestChain) =>
  ({
    address: c.deployment.contracts.RewardDistributor,
    abi: RewardDistributorArtifact.abi,
    contract: 'RewardDistributor',
  }) as const;

const domainOf = (c: TestChain, verifyingContract: Address = escrow(c).address, chainId = c.clients.chain.id) => ({
  name: 'Tributary InferenceEscrow',
  version: '1',
  chainId,
  verifyingContract,
});

/** The user's signature of a voucher; `domain` overrides bind it elsewhere (another chain, another escrow). */
const signVoucher = (
  c: TestChain,
  signer: LocalAccount,
  v: Voucher,
  domain: { chainId?: number; verifyingContract?: Address } = {},
): Promise<Hex> =>
  signer.signTypedData({
    domain: domainOf(c, domain.verifyingContract, domain.chainId),
    types: voucherTypes,
    primaryType: 'Voucher',
    message: v,
  });

/** Who the escrow recovers from `signature` when it checks it against `v` on `escrowAddress`. */
const recoveredBy = (c: TestChain, v: Voucher, signature: Hex, escrowAddress: Address = escrow(c).address) =>
  recoverTypedDataAddress({
    domain: domainOf(c, escrowAddress),
    types: voucherTypes,
    primaryType: 'Voucher',
    message: v,
    signature,
  });

const balanceOf = (c: TestChain, who: Address) =>
  c.clients.public.readContract({ ...c.token, functionName: 'balanceOf', args: [who] });
const feesReceived = (c: TestChain) =>
  c.clients.public.readContract({ ...distributor(c), functionName: 'totalFeesReceived' });
const getChannel = (c: TestChain, id: bigint, at: Address = escrow(c).address) =>
  c.clients.public
    .readContract({ ...escrowAt(at), functionName: 'getChannel', args: [id] })
    .then((ch) => ({ ...ch }))
    .catch((e: unknown) => {
      throw contractError(e, 'InferenceEscrow.getChannel', InferenceEscrowArtifact.abi);
    });
const blockTime = async (c: TestChain, receipt?: TransactionReceipt) =>
  (await c.clients.public.getBlock(receipt ? { blockNumber: receipt.blockNumber } : {})).timestamp;

/** Sends `amount` OPEN from the deployer's liquidity to `who` and approves `spender` (the escrow) for all of it. */
async function fund(c: TestChain, who: HDAccount, amount: bigint, spender: Address | null = escrow(c).address) {
  await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [who.address, amount] });
  if (spender) await send(c, who, { ...c.token, functionName: 'approve', args: [spender, maxUint256] });
}

async function open(
  c: TestChain,
  user: HDAccount,
  node: Address,
  amount: bigint,
  duration: bigint = DAY,
  at: Address = escrow(c).address,
): Promise<{ id: bigint; expiresAt: bigint; receipt: TransactionReceipt }> {
  const receipt = await send(c, user, { ...escrowAt(at), functionName: 'openChannel', args: [node, amount, duration] });
  const [event] = parseEventLogs({ abi: InferenceEscrowArtifact.abi, logs: receipt.logs, eventName: 'ChannelOpened' });
  if (!event) throw new Error('no ChannelOpened');
  return { id: event.args.channelId, expiresAt: event.args.expiresAt, receipt };
}

const redeem = (c: TestChain, node: Account | Address, id: bigint, amount: bigint, signature: Hex, at?: Address) =>
  send(c, node, { ...escrowAt(at ?? escrow(c).address), functionName: 'redeem', args: [id, amount, signature] });

/** Signs and redeems a voucher for `amount` on channel `id` (the node is the one the voucher names). */
async function pay(c: TestChain, user: HDAccount, node: HDAccount, id: bigint, amount: bigint) {
  const signature = await signVoucher(c, user, { channelId: id, node: node.address, cumulativeAmount: amount });
  return redeem(c, node, id, amount, signature);
}

const topUp = (c: TestChain, who: Account, id: bigint, amount: bigint, extension: bigint) =>
  send(c, who, { ...escrow(c), functionName: 'topUp', args: [id, amount, extension] });
const close = (c: TestChain, who: Account, id: bigint) =>
  send(c, who, { ...escrow(c), functionName: 'close', args: [id] });
const closableAt = (c: TestChain, id: bigint) =>
  c.clients.public.readContract({ ...escrow(c), functionName: 'closableAt', args: [id] }).catch((e: unknown) => {
    throw contractError(e, 'InferenceEscrow.closableAt', InferenceEscrowArtifact.abi);
  });

/** user pays, node serves, other is a bystander. */
function cast(c: TestChain): { user: HDAccount; node: HDAccount; other: HDAccount; node2: HDAccount } {
  const [user, node, other, node2] = c.users as [HDAccount, HDAccount, HDAccount, HDAccount];
  return { user, node, other, node2 };
}

// --------------------------------------------------------------------------------------------------- tests

describe('InferenceEscrow: deployment', () => {
  it('pays into the RewardDistributor, holds nothing, and has the voucher domain and type', async () => {
    const c = chain();
    const e = escrow(c);
    const read = <T>(functionName: string) =>
      c.clients.public.readContract({ ...e, functionName, args: [] } as never) as Promise<T>;
    expect(await read<Address>('token')).toBe(c.token.address);
    expect(await read<Address>('feeSink')).toBe(distributor(c).address);
    expect(await read<bigint>('channelCount')).toBe(0n);
    expect(await read<bigint>('settlementGrace')).toBe(GRACE);
    expect(await read<bigint>('MIN_SETTLEMENT_GRACE')).toBe(MIN_GRACE);
    expect(await read<bigint>('MAX_SETTLEMENT_GRACE')).toBe(MAX_GRACE);
    expect(await read<Hex>('VOUCHER_TYPEHASH')).toBe(
      keccak256(stringToHex('Voucher(uint256 channelId,address node,uint256 cumulativeAmount)')),
    );
    const [, name, version, chainId, verifyingContract] = await read<readonly unknown[]>('eip712Domain');
    expect({ name, version, chainId, verifyingContract }).toEqual({
      name: 'Tributary InferenceEscrow',
      version: '1',
      chainId: BigInt(c.clients.chain.id),
      verifyingContract: e.address,
    });
    expect(await balanceOf(c, e.address)).toBe(0n);
    // Only this escrow may record fees on the distributor.
    expect(
      await c.clients.public.readContract({
        ...distributor(c),
        functionName: 'hasRole',
        args: [roleIds.FEE_SOURCE, e.address],
      }),
    ).toBe(true);
  });

  it('refuses a zero token or fee sink', async () => {
    const c = chain();
    const d = distributor(c).address;
    await expectRevert(
      deployContract(c.clients, c.deployer, InferenceEscrowArtifact, [zeroAddress, d, GRACE]),
      'ZeroAddress',
    );
    await expectRevert(
      deployContract(c.clients, c.deployer, InferenceEscrowArtifact, [c.token.address, zeroAddress, GRACE]),
      'ZeroAddress',
    );
  });

  it('refuses a settlement grace outside 1 hour .. 30 days (InvalidSettlementGrace); accepts both bounds', async () => {
    const c = chain();
    const deploy = (grace: bigint) =>
      deployContract(c.clients, c.deployer, InferenceEscrowArtifact, [c.token.address, distributor(c).address, grace]);
    for (const grace of [0n, MIN_GRACE - 1n, MAX_GRACE + 1n, 2n ** 64n - 1n]) {
      const err = await expectRevert(deploy(grace), 'InvalidSettlementGrace', [grace]);
      if (grace === 0n)
        expect(err.message).toBe('InferenceEscrow.constructor reverted with InvalidSettlementGrace("0")');
    }
    for (const grace of [MIN_GRACE, MAX_GRACE]) {
      const { address } = await deploy(grace);
      expect(await c.clients.public.readContract({ ...escrowAt(address), functionName: 'settlementGrace' })).toBe(
        grace,
      );
    }
  });

  it('voucherDigest is the EIP-712 hash viem computes for the voucher', async () => {
    const c = chain();
    const { node } = cast(c);
    for (const v of [
      { channelId: 1n, node: node.address, cumulativeAmount: 1n },
      { channelId: 7n, node: node.address, cumulativeAmount: 123n * OPEN },
      { channelId: 2n ** 255n, node: zeroAddress, cumulativeAmount: maxUint256 },
    ]) {
      const digest = await c.clients.public.readContract({
        ...escrow(c),
        functionName: 'voucherDigest',
        args: [v.channelId, v.node, v.cumulativeAmount],
      });
      expect(digest).toBe(
        hashTypedData({ domain: domainOf(c), types: voucherTypes, primaryType: 'Voucher', message: v }),
      );
    }
  });
});

describe('InferenceEscrow: open', () => {
  it('opens a channel: pulls the deposit, emits ChannelOpened, numbers channels from 1', async () => {
    const c = chain();
    const { user, node, node2 } = cast(c);
    await fund(c, user, 100n * OPEN);
    const { id, expiresAt, receipt } = await open(c, user, node.address, 40n * OPEN, 2n * DAY);
    const t = await blockTime(c, receipt);
    expect(id).toBe(1n);
    expect(expiresAt).toBe(t + 2n * DAY);
    const logs = parseEventLogs({ abi: InferenceEscrowArtifact.abi, logs: receipt.logs, eventName: 'ChannelOpened' });
    expect(logs.map((l) => l.args)).toEqual([
      { channelId: 1n, user: user.address, node: node.address, deposit: 40n * OPEN, expiresAt },
    ]);
    expect(await getChannel(c, 1n)).toEqual({
      user: user.address,
      expiresAt,
      closed: false,
      node: node.address,
      deposit: 40n * OPEN,
      redeemed: 0n,
    });
    expect(await balanceOf(c, user.address)).toBe(60n * OPEN);
    expect(await balanceOf(c, escrow(c).address)).toBe(40n * OPEN);
    const second = await open(c, user, node2.address, 1n, 1n);
    expect(second.id).toBe(2n);
    expect(await c.clients.public.readContract({ ...escrow(c), functionName: 'channelCount' })).toBe(2n);
    expect(await balanceOf(c, escrow(c).address)).toBe(40n * OPEN + 1n);
  });

  it('refuses a zero amount, a zero duration and a zero node', async () => {
    const c = chain();
    const { user, node } = cast(c);
    await fund(c, user, 100n * OPEN);
    const openWith = (n: Address, amount: bigint, duration: bigint) =>
      send(c, user, { ...escrow(c), functionName: 'openChannel', args: [n, amount, duration] });
    const err = await expectRevert(openWith(node.address, 0n, DAY), 'ZeroAmount', []);
    expect(err.message).toBe('InferenceEscrow.openChannel reverted with ZeroAmount()');
    await expectRevert(openWith(node.address, OPEN, 0n), 'ZeroAmount', []);
    await expectRevert(openWith(zeroAddress, OPEN, DAY), 'ZeroAddress', []);
    expect(await c.clients.public.readContract({ ...escrow(c), functionName: 'channelCount' })).toBe(0n);
    expect(await balanceOf(c, user.address)).toBe(100n * OPEN);
  });

  it('needs an allowance and a balance', async () => {
    const c = chain();
    const { user, node } = cast(c);
    await fund(c, user, 10n * OPEN, null);
    await expectRevert(open(c, user, node.address, OPEN), 'ERC20InsufficientAllowance', [escrow(c).address, 0n, OPEN]);
    await send(c, user, { ...c.token, functionName: 'approve', args: [escrow(c).address, maxUint256] });
    await expectRevert(open(c, user, node.address, 11n * OPEN), 'ERC20InsufficientBalance', [
      user.address,
      10n * OPEN,
      11n * OPEN,
    ]);
  });

  describe('openChannelWithPermit', () => {
    const permit = async (c: TestChain, owner: HDAccount, value: bigint, deadline: bigint) => {
      const nonce = await c.clients.public.readContract({ ...c.token, functionName: 'nonces', args: [owner.address] });
      const [, , , , v, r, s] = await signPermit(owner, {
        chainId: c.clients.chain.id,
        token: c.token.address,
        spender: escrow(c).address,
        value,
        nonce,
        deadline,
      });
      return { v, r, s };
    };
    const openWithPermit = (
      c: TestChain,
      user: HDAccount,
      node: Address,
      amount: bigint,
      deadline: bigint,
      p: { v: number; r: Hex; s: Hex },
    ) =>
      send(c, user, {
        ...escrow(c),
        functionName: 'openChannelWithPermit',
        args: [node, amount, DAY, deadline, p.v, p.r, p.s],
      });

    it('opens in one transaction without a prior approval, using up the permit', async () => {
      const c = chain();
      const { user, node } = cast(c);
      await fund(c, user, 50n * OPEN, null);
      const deadline = (await blockTime(c)) + HOUR;
      const receipt = await openWithPermit(
        c,
        user,
        node.address,
        30n * OPEN,
        deadline,
        await permit(c, user, 30n * OPEN, deadline),
      );
      const [event] = parseEventLogs({
        abi: InferenceEscrowArtifact.abi,
        logs: receipt.logs,
        eventName: 'ChannelOpened',
      });
      expect(event?.args).toMatchObject({ channelId: 1n, user: user.address, node: node.address, deposit: 30n * OPEN });
      expect(await balanceOf(c, escrow(c).address)).toBe(30n * OPEN);
      expect(
        await c.clients.public.readContract({
          ...c.token,
          functionName: 'allowance',
          args: [user.address, escrow(c).address],
        }),
      ).toBe(0n);
      expect(await c.clients.public.readContract({ ...c.token, functionName: 'nonces', args: [user.address] })).toBe(
        1n,
      );
    });

    it('still opens when someone front-ran the permit (the allowance it set is used)', async () => {
      const c = chain();
      const { user, node, other } = cast(c);
      await fund(c, user, 50n * OPEN, null);
      const deadline = (await blockTime(c)) + HOUR;
      const p = await permit(c, user, 30n * OPEN, deadline);
      await send(c, other, {
        ...c.token,
        functionName: 'permit',
        args: [user.address, escrow(c).address, 30n * OPEN, deadline, p.v, p.r, p.s],
      });
      await openWithPermit(c, user, node.address, 30n * OPEN, deadline, p);
      expect((await getChannel(c, 1n)).deposit).toBe(30n * OPEN);
    });

    it('refuses when the permit is bad and there is no allowance (the transfer decides)', async () => {
      const c = chain();
      const { user, node, other } = cast(c);
      await fund(c, user, 50n * OPEN, null);
      const deadline = (await blockTime(c)) + HOUR;
      // Signed by someone else, and expired: both ignored, then the transfer finds no allowance.
      const forged = await permit(c, other, 30n * OPEN, deadline);
      await expectRevert(
        openWithPermit(c, user, node.address, 30n * OPEN, deadline, forged),
        'ERC20InsufficientAllowance',
        [escrow(c).address, 0n, 30n * OPEN],
      );
      const past = (await blockTime(c)) - 1n;
      await expectRevert(
        openWithPermit(c, user, node.address, 30n * OPEN, past, await permit(c, user, 30n * OPEN, past)),
        'ERC20InsufficientAllowance',
      );
      // A permit for less than the deposit sets too small an allowance.
      await expectRevert(
        openWithPermit(c, user, node.address, 30n * OPEN, deadline, await permit(c, user, 29n * OPEN, deadline)),
        'ERC20InsufficientAllowance',
      );
      expect(await balanceOf(c, user.address)).toBe(50n * OPEN);
    });
  });
});

describe('InferenceEscrow: topUp', () => {
  it('adds to the deposit and extends the expiry (user only), with ChannelToppedUp', async () => {
    const c = chain();
    const { user, node } = cast(c);
    await fund(c, user, 100n * OPEN);
    const { id, expiresAt } = await open(c, user, node.address, 10n * OPEN);
    const receipt = await topUp(c, user, id, 5n * OPEN, HOUR);
    const logs = parseEventLogs({ abi: InferenceEscrowArtifact.abi, logs: receipt.logs, eventName: 'ChannelToppedUp' });
    expect(logs.map((l) => l.args)).toEqual([
      { channelId: id, amount: 5n * OPEN, deposit: 15n * OPEN, expiresAt: expiresAt + HOUR },
    ]);
    // A top-up without extension keeps the expiry.
    await topUp(c, user, id, 1n, 0n);
    expect(await getChannel(c, id)).toMatchObject({ deposit: 15n * OPEN + 1n, expiresAt: expiresAt + HOUR });
    expect(await balanceOf(c, escrow(c).address)).toBe(15n * OPEN + 1n);
    expect(await balanceOf(c, user.address)).toBe(85n * OPEN - 1n);
  });

  it('a top-up makes a voucher above the old deposit redeemable', async () => {
    const c = chain();
    const { user, node } = cast(c);
    await fund(c, user, 100n * OPEN);
    const { id } = await open(c, user, node.address, 10n * OPEN);
    const signature = await signVoucher(c, user, { channelId: id, node: node.address, cumulativeAmount: 12n * OPEN });
    await expectRevert(redeem(c, node, id, 12n * OPEN, signature), 'ExceedsDeposit', [10n * OPEN, 12n * OPEN]);
    await topUp(c, user, id, 2n * OPEN, 0n);
    await redeem(c, node, id, 12n * OPEN, signature);
    expect(await getChannel(c, id)).toMatchObject({ deposit: 12n * OPEN, redeemed: 12n * OPEN });
  });

  it('refuses anyone but the user, a zero amount, unknown and closed channels', async () => {
    const c = chain();
    const { user, node, other } = cast(c);
    await fund(c, user, 100n * OPEN);
    await fund(c, other, 100n * OPEN);
    const { id, expiresAt } = await open(c, user, node.address, 10n * OPEN);
    await expectRevert(topUp(c, other, id, OPEN, 0n), 'NotChannelUser', [id, other.address]);
    await expectRevert(topUp(c, node, id, OPEN, 0n), 'NotChannelUser', [id, node.address]);
    await expectRevert(topUp(c, user, id, 0n, HOUR), 'ZeroAmount', []);
    await expectRevert(topUp(c, user, 2n, OPEN, 0n), 'UnknownChannel', [2n]);
    await expectRevert(topUp(c, user, 0n, OPEN, 0n), 'UnknownChannel', [0n]);
    await warpTo(c, expiresAt + GRACE);
    await close(c, user, id);
    await expectRevert(topUp(c, user, id, OPEN, DAY), 'ChannelClosed', [id]);
    expect(await balanceOf(c, escrow(c).address)).toBe(0n);
  });
});

describe('InferenceEscrow: redeem', () => {
  it('pays the voucher to the distributor, which records the fees (VoucherRedeemed, FeesRecorded)', async () => {
    const c = chain();
    const { user, node } = cast(c);
    await fund(c, user, 100n * OPEN);
    const { id } = await open(c, user, node.address, 10n * OPEN);
    const d = distributor(c).address;
    const [dBefore, nodeBefore, feesBefore] = [
      await balanceOf(c, d),
      await balanceOf(c, node.address),
      await feesReceived(c),
    ];
    expect(feesBefore).toBe(0n);
    const receipt = await pay(c, user, node, id, 3n * OPEN);
    expect(
      parseEventLogs({ abi: InferenceEscrowArtifact.abi, logs: receipt.logs, eventName: 'VoucherRedeemed' }).map(
        (l) => l.args,
      ),
    ).toEqual([{ channelId: id, node: node.address, cumulativeAmount: 3n * OPEN, amount: 3n * OPEN }]);
    const fees = parseEventLogs({ abi: RewardDistributorArtifact.abi, logs: receipt.logs, eventName: 'FeesRecorded' });
    expect(fees.map((l) => ({ address: l.address, args: l.args }))).toEqual([
      {
        address: d.toLowerCase(),
        args: { node: node.address, channelId: id, amount: 3n * OPEN, nodeFeesReceived: 3n * OPEN },
      },
    ]);
    expect(await feesReceived(c)).toBe(3n * OPEN);
    expect(await balanceOf(c, d)).toBe(dBefore + 3n * OPEN);
    expect(await balanceOf(c, node.address)).toBe(nodeBefore);
    expect(await balanceOf(c, escrow(c).address)).toBe(7n * OPEN);
    expect(await getChannel(c, id)).toMatchObject({ redeemed: 3n * OPEN, deposit: 10n * OPEN, closed: false });
  });

  it('pays only the increment of each newer cumulative voucher, across channels', async () => {
    const c = chain();
    const { user, node, node2 } = cast(c);
    await fund(c, user, 100n * OPEN);
    const a = await open(c, user, node.address, 10n * OPEN);
    const b = await open(c, user, node2.address, 10n * OPEN);
    const steps: [HDAccount, bigint, bigint, bigint][] = [
      // node, channel, cumulative, expected increment
      [node, a.id, 1n, 1n],
      [node, a.id, 2n * OPEN, 2n * OPEN - 1n],
      [node2, b.id, 5n * OPEN, 5n * OPEN],
      [node, a.id, 2n * OPEN + 1n, 1n],
      // The node may skip vouchers: the latest covers everything before it.
      [node, a.id, 10n * OPEN, 8n * OPEN - 1n],
      [node2, b.id, 6n * OPEN, OPEN],
    ];
    let total = 0n;
    for (const [n, id, cumulative, increment] of steps) {
      const receipt = await pay(c, user, n, id, cumulative);
      const [event] = parseEventLogs({
        abi: InferenceEscrowArtifact.abi,
        logs: receipt.logs,
        eventName: 'VoucherRedeemed',
      });
      expect(event?.args).toEqual({ channelId: id, node: n.address, cumulativeAmount: cumulative, amount: increment });
      total += increment;
      expect(await feesReceived(c)).toBe(total);
    }
    expect(total).toBe(16n * OPEN);
    expect(await getChannel(c, a.id)).toMatchObject({ redeemed: 10n * OPEN });
    expect(await getChannel(c, b.id)).toMatchObject({ redeemed: 6n * OPEN });
    expect(await balanceOf(c, distributor(c).address)).toBe(16n * OPEN);
    expect(await balanceOf(c, escrow(c).address)).toBe(4n * OPEN);
  });

  it('refuses anyone but the channel node (the user and other nodes included)', async () => {
    const c = chain();
    const { user, node, node2, other } = cast(c);
    await fund(c, user, 100n * OPEN);
    const { id } = await open(c, user, node.address, 10n * OPEN);
    const signature = await signVoucher(c, user, { channelId: id, node: node.address, cumulativeAmount: OPEN });
    for (const who of [user, node2, other])
      await expectRevert(redeem(c, who, id, OPEN, signature), 'NotChannelNode', [id, who.address]);
    expect(await feesReceived(c)).toBe(0n);
    await redeem(c, node, id, OPEN, signature);
  });

  it('refuses a replayed voucher, an older one after a newer one, and a zero voucher (VoucherNotNewer)', async () => {
    const c = chain();
    const { user, node } = cast(c);
    await fund(c, user, 100n * OPEN);
    const { id } = await open(c, user, node.address, 10n * OPEN);
    const sig = (amount: bigint) =>
      signVoucher(c, user, { channelId: id, node: node.address, cumulativeAmount: amount });
    const [v1, v2, v3] = [await sig(OPEN), await sig(2n * OPEN), await sig(3n * OPEN)];
    await expectRevert(redeem(c, node, id, 0n, await sig(0n)), 'VoucherNotNewer', [0n, 0n]);
    await redeem(c, node, id, OPEN, v1);
    const err = await expectRevert(redeem(c, node, id, OPEN, v1), 'VoucherNotNewer', [OPEN, OPEN]);
    expect(err.message).toBe(`InferenceEscrow.redeem reverted with VoucherNotNewer("${OPEN}", "${OPEN}")`);
    await redeem(c, node, id, 3n * OPEN, v3);
    await expectRevert(redeem(c, node, id, 2n * OPEN, v2), 'VoucherNotNewer', [3n * OPEN, 2n * OPEN]);
    await expectRevert(redeem(c, node, id, OPEN, v1), 'VoucherNotNewer', [3n * OPEN, OPEN]);
    await expectRevert(redeem(c, node, id, 3n * OPEN, v3), 'VoucherNotNewer', [3n * OPEN, 3n * OPEN]);
    expect(await feesReceived(c)).toBe(3n * OPEN);
    expect(await getChannel(c, id)).toMatchObject({ redeemed: 3n * OPEN });
  });

  it('refuses a voucher above the deposit (ExceedsDeposit), even a correctly signed one', async () => {
    const c = chain();
    const { user, node } = cast(c);
    await fund(c, user, 100n * OPEN);
    const { id } = await open(c, user, node.address, 10n * OPEN);
    const amount = 10n * OPEN + 1n;
    const signature = await signVoucher(c, user, { channelId: id, node: node.address, cumulativeAmount: amount });
    await expectRevert(redeem(c, node, id, amount, signature), 'ExceedsDeposit', [10n * OPEN, amount]);
    await expectRevert(redeem(c, node, id, maxUint256, signature), 'ExceedsDeposit', [10n * OPEN, maxUint256]);
    // Exactly the deposit is fine.
    await pay(c, user, node, id, 10n * OPEN);
    expect(await balanceOf(c, escrow(c).address)).toBe(0n);
  });

  describe('InvalidVoucherSignature', () => {
    it('refuses a voucher signed by someone else, naming who signed it', async () => {
      const c = chain();
      const { user, node, other } = cast(c);
      await fund(c, user, 100n * OPEN);
      const { id } = await open(c, user, node.address, 10n * OPEN);
      const v = { channelId: id, node: node.address, cumulativeAmount: OPEN };
      for (const signer of [other, node]) {
        const signature = await signVoucher(c, signer, v);
        await expectRevert(redeem(c, node, id, OPEN, signature), 'InvalidVoucherSignature', [id, signer.address]);
      }
    });

    it('refuses a voucher for another channel of the same user and node', async () => {
      const c = chain();
      const { user, node } = cast(c);
      await fund(c, user, 100n * OPEN);
      const a = await open(c, user, node.address, 10n * OPEN);
      const b = await open(c, user, node.address, 10n * OPEN);
      const signature = await signVoucher(c, user, { channelId: a.id, node: node.address, cumulativeAmount: OPEN });
      const recovered = await recoveredBy(
        c,
        { channelId: b.id, node: node.address, cumulativeAmount: OPEN },
        signature,
      );
      expect(recovered).not.toBe(user.address);
      await expectRevert(redeem(c, node, b.id, OPEN, signature), 'InvalidVoucherSignature', [b.id, recovered]);
      await redeem(c, node, a.id, OPEN, signature);
      expect(await getChannel(c, b.id)).toMatchObject({ redeemed: 0n });
    });

    it('refuses a voucher naming another node', async () => {
      const c = chain();
      const { user, node, node2 } = cast(c);
      await fund(c, user, 100n * OPEN);
      const { id } = await open(c, user, node.address, 10n * OPEN);
      await open(c, user, node2.address, 10n * OPEN);
      // The user signed channel `id` for node2: node (the channel's node) cannot redeem it...
      const signature = await signVoucher(c, user, { channelId: id, node: node2.address, cumulativeAmount: OPEN });
      const recovered = await recoveredBy(c, { channelId: id, node: node.address, cumulativeAmount: OPEN }, signature);
      expect(recovered).not.toBe(user.address);
      await expectRevert(redeem(c, node, id, OPEN, signature), 'InvalidVoucherSignature', [id, recovered]);
      // ...and node2 is not the channel's node.
      await expectRevert(redeem(c, node2, id, OPEN, signature), 'NotChannelNode', [id, node2.address]);
    });

    it('refuses a voucher signed for another chain id', async () => {
      const c = chain();
      const { user, node } = cast(c);
      await fund(c, user, 100n * OPEN);
      const { id } = await open(c, user, node.address, 10n * OPEN);
      const v = { channelId: id, node: node.address, cumulativeAmount: OPEN };
      for (const chainId of [1, c.clients.chain.id + 1]) {
        const signature = await signVoucher(c, user, v, { chainId });
        const recovered = await recoveredBy(c, v, signature);
        expect(recovered).not.toBe(user.address);
        await expectRevert(redeem(c, node, id, OPEN, signature), 'InvalidVoucherSignature', [id, recovered]);
      }
    });

    it('refuses a voucher signed for another escrow (and the other escrow refuses ours)', async () => {
      const c = chain();
      const { user, node } = cast(c);
      const second = await deployContract(c.clients, c.deployer, InferenceEscrowArtifact, [
        c.token.address,
        distributor(c).address,
        GRACE,
      ]);
      const timelock = await c.impersonate(c.timelock.address);
      await send(c, timelock, {
        ...distributor(c),
        functionName: 'grantRole',
        args: [roleIds.FEE_SOURCE, second.address],
      });
      await fund(c, user, 100n * OPEN);
      await send(c, user, { ...c.token, functionName: 'approve', args: [second.address, maxUint256] });
      // Same channel id, user, node and amount in both escrows: only the verifying contract differs.
      const mine = await open(c, user, node.address, 10n * OPEN);
      const theirs = await open(c, user, node.address, 10n * OPEN, DAY, second.address);
      expect(theirs.id).toBe(mine.id);
      const v = { channelId: mine.id, node: node.address, cumulativeAmount: OPEN };
      const forSecond = await signVoucher(c, user, v, { verifyingContract: second.address });
      const forMain = await signVoucher(c, user, v);
      await expectRevert(redeem(c, node, mine.id, OPEN, forSecond), 'InvalidVoucherSignature', [
        mine.id,
        await recoveredBy(c, v, forSecond),
      ]);
      await expectRevert(redeem(c, node, theirs.id, OPEN, forMain, second.address), 'InvalidVoucherSignature', [
        theirs.id,
        await recoveredBy(c, v, forMain, second.address),
      ]);
      // Each voucher is good where it was meant to be.
      await redeem(c, node, mine.id, OPEN, forMain);
      await redeem(c, node, theirs.id, OPEN, forSecond, second.address);
      expect(await feesReceived(c)).toBe(2n * OPEN);
    });

    it('refuses malformed signatures with the ECDSA errors', async () => {
      const c = chain();
      const { user, node } = cast(c);
      await fund(c, user, 100n * OPEN);
      const { id } = await open(c, user, node.address, 10n * OPEN);
      const good = await signVoucher(c, user, { channelId: id, node: node.address, cumulativeAmount: OPEN });
      const { r, s, yParity } = parseSignature(good);
      const try_ = (signature: Hex) => redeem(c, node, id, OPEN, signature);
      await expectRevert(try_('0x'), 'ECDSAInvalidSignatureLength', [0n]);
      await expectRevert(try_(good.slice(0, -2) as Hex), 'ECDSAInvalidSignatureLength', [64n]);
      await expectRevert(try_(concat([good, '0x00'])), 'ECDSAInvalidSignatureLength', [66n]);
      // EIP-2098 compact signatures are not accepted either.
      const compact = serializeCompactSignature(signatureToCompactSignature(parseSignature(good)));
      await expectRevert(try_(compact), 'ECDSAInvalidSignatureLength', [64n]);
      // The malleable twin (n − s, other parity) recovers the same signer but is refused.
      const highS = SECP256K1_N - BigInt(s);
      const twin = serializeSignature({ r, s: toHex(highS, { size: 32 }), yParity: yParity === 0 ? 1 : 0 });
      expect(
        await recoverTypedDataAddress({
          domain: domainOf(c),
          types: voucherTypes,
          primaryType: 'Voucher',
          message: { channelId: id, node: node.address, cumulativeAmount: OPEN },
          signature: twin,
        }),
      ).toBe(user.address);
      await expectRevert(try_(twin), 'ECDSAInvalidSignatureS', [toHex(highS, { size: 32 })]);
      // A v that is neither 27 nor 28, and an all-zero signature, recover nobody.
      await expectRevert(try_(concat([r, s, '0x1d'])), 'ECDSAInvalidSignature', []);
      await expectRevert(try_(concat([r, s, '0x00'])), 'ECDSAInvalidSignature', []);
      await expectRevert(try_(toHex(0n, { size: 65 })), 'ECDSAInvalidSignature', []);
      expect(await feesReceived(c)).toBe(0n);
      await try_(good);
      expect(await feesReceived(c)).toBe(OPEN);
    });
  });

  it('refuses an unknown channel', async () => {
    const c = chain();
    const { user, node } = cast(c);
    await fund(c, user, 100n * OPEN);
    await open(c, user, node.address, 10n * OPEN);
    for (const id of [0n, 2n, maxUint256]) {
      const signature = await signVoucher(c, user, { channelId: id, node: node.address, cumulativeAmount: OPEN });
      await expectRevert(redeem(c, node, id, OPEN, signature), 'UnknownChannel', [id]);
    }
    await expectRevert(getChannel(c, 2n), 'UnknownChannel', [2n]);
  });

  it('lets the node redeem after the expiry, during the grace and after it, as long as the user has not closed', async () => {
    const c = chain();
    const { user, node } = cast(c);
    await fund(c, user, 100n * OPEN);
    const { id, expiresAt } = await open(c, user, node.address, 10n * OPEN);
    await warpTo(c, expiresAt);
    await pay(c, user, node, id, OPEN);
    await warpTo(c, expiresAt + GRACE + DAY);
    await pay(c, user, node, id, 4n * OPEN);
    const receipt = await close(c, user, id);
    const [event] = parseEventLogs({
      abi: InferenceEscrowArtifact.abi,
      logs: receipt.logs,
      eventName: 'ChannelClosedByUser',
    });
    expect(event?.args).toEqual({ channelId: id, refund: 6n * OPEN });
  });
});

describe('InferenceEscrow: close', () => {
  it('refuses before the expiry (ChannelNotExpired), during the grace (InSettlementGrace) and anyone but the user (NotChannelUser)', async () => {
    const c = chain();
    const { user, node, other } = cast(c);
    await fund(c, user, 100n * OPEN);
    const { id, expiresAt } = await open(c, user, node.address, 10n * OPEN, HOUR);
    await expectRevert(close(c, user, id), 'ChannelNotExpired', [id, expiresAt]);
    await warpTo(c, expiresAt - 1n);
    // The send pins the next block to the latest block's time: expiresAt − 1, one second short.
    await expectRevert(close(c, user, id), 'ChannelNotExpired', [id, expiresAt]);
    await warpTo(c, expiresAt);
    const err = await expectRevert(close(c, user, id), 'InSettlementGrace', [id, expiresAt + GRACE]);
    expect(err.message).toBe(`InferenceEscrow.close reverted with InSettlementGrace("${id}", "${expiresAt + GRACE}")`);
    await warpTo(c, expiresAt + GRACE - 1n);
    await expectRevert(close(c, user, id), 'InSettlementGrace', [id, expiresAt + GRACE]);
    await warpTo(c, expiresAt + GRACE);
    for (const who of [node, other]) await expectRevert(close(c, who, id), 'NotChannelUser', [id, who.address]);
    await expectRevert(close(c, user, 5n), 'UnknownChannel', [5n]);
    await close(c, user, id);
    expect(await balanceOf(c, user.address)).toBe(100n * OPEN);
  });

  it('closableAt is the expiry plus the grace, follows top-ups, and refuses an unknown channel', async () => {
    const c = chain();
    const { user, node } = cast(c);
    await fund(c, user, 100n * OPEN);
    const { id, expiresAt } = await open(c, user, node.address, 10n * OPEN, HOUR);
    expect(await closableAt(c, id)).toBe(expiresAt + GRACE);
    await topUp(c, user, id, OPEN, 2n * HOUR);
    expect(await closableAt(c, id)).toBe(expiresAt + 2n * HOUR + GRACE);
    for (const unknown of [0n, 2n]) await expectRevert(closableAt(c, unknown), 'UnknownChannel', [unknown]);
  });

  it('a top-up extension pushes the expiry, and with it the end of the grace, back', async () => {
    const c = chain();
    const { user, node } = cast(c);
    await fund(c, user, 100n * OPEN);
    const { id, expiresAt } = await open(c, user, node.address, 10n * OPEN, HOUR);
    await topUp(c, user, id, OPEN, HOUR);
    await warpTo(c, expiresAt);
    await expectRevert(close(c, user, id), 'ChannelNotExpired', [id, expiresAt + HOUR]);
    await warpTo(c, expiresAt + HOUR);
    await expectRevert(close(c, user, id), 'InSettlementGrace', [id, expiresAt + HOUR + GRACE]);
    // A top-up during the grace (no extension) leaves the grace where it was.
    await topUp(c, user, id, OPEN, 0n);
    await warpTo(c, expiresAt + HOUR + GRACE);
    await close(c, user, id);
    expect(await balanceOf(c, user.address)).toBe(100n * OPEN);
  });

  it('refunds deposit − redeemed, then refuses redeem, topUp and close on the closed channel', async () => {
    const c = chain();
    const { user, node } = cast(c);
    await fund(c, user, 100n * OPEN);
    const { id, expiresAt } = await open(c, user, node.address, 10n * OPEN, HOUR);
    await pay(c, user, node, id, 3n * OPEN);
    const late = await signVoucher(c, user, { channelId: id, node: node.address, cumulativeAmount: 5n * OPEN });
    await warpTo(c, expiresAt + GRACE);
    const receipt = await close(c, user, id);
    expect(
      parseEventLogs({ abi: InferenceEscrowArtifact.abi, logs: receipt.logs, eventName: 'ChannelClosedByUser' }).map(
        (l) => l.args,
      ),
    ).toEqual([{ channelId: id, refund: 7n * OPEN }]);
    expect(await balanceOf(c, user.address)).toBe(97n * OPEN);
    expect(await balanceOf(c, escrow(c).address)).toBe(0n);
    expect(await getChannel(c, id)).toMatchObject({ closed: true, deposit: 10n * OPEN, redeemed: 3n * OPEN });
    // A voucher the node did not redeem in time is worthless now.
    await expectRevert(redeem(c, node, id, 5n * OPEN, late), 'ChannelClosed', [id]);
    await expectRevert(topUp(c, user, id, OPEN, 0n), 'ChannelClosed', [id]);
    await expectRevert(close(c, user, id), 'ChannelClosed', [id]);
    expect(await feesReceived(c)).toBe(3n * OPEN);
    expect(await balanceOf(c, user.address)).toBe(97n * OPEN);
  });

  it('closes a fully redeemed channel with a zero refund and no transfer', async () => {
    const c = chain();
    const { user, node } = cast(c);
    await fund(c, user, 100n * OPEN);
    const { id, expiresAt } = await open(c, user, node.address, 10n * OPEN, HOUR);
    await pay(c, user, node, id, 10n * OPEN);
    await warpTo(c, expiresAt + GRACE);
    const receipt = await close(c, user, id);
    expect(
      parseEventLogs({ abi: InferenceEscrowArtifact.abi, logs: receipt.logs, eventName: 'ChannelClosedByUser' }).map(
        (l) => l.args,
      ),
    ).toEqual([{ channelId: id, refund: 0n }]);
    expect(parseEventLogs({ abi: c.token.abi, logs: receipt.logs, eventName: 'Transfer' })).toHaveLength(0);
    expect(await balanceOf(c, user.address)).toBe(90n * OPEN);
  });
});

describe('attack 2: closing a channel under a node that holds signed vouchers', () => {
  it('attack 2: a user cannot close a channel before the node redeems', async () => {
    const c = chain();
    const { user, node } = cast(c);
    await fund(c, user, 100n * OPEN);
    const { id, expiresAt } = await open(c, user, node.address, 10n * OPEN, HOUR);
    // The node served 6 OPEN worth of answers and holds the user's latest voucher, unredeemed.
    const owed = 6n * OPEN;
    const voucher = await signVoucher(c, user, { channelId: id, node: node.address, cumulativeAmount: owed });
    // The moment the channel expires the user tries to take the whole deposit back: refused for the grace.
    await warpTo(c, expiresAt);
    await expectRevert(close(c, user, id), 'InSettlementGrace', [id, expiresAt + GRACE]);
    await warpTo(c, expiresAt + GRACE - 1n);
    await expectRevert(close(c, user, id), 'InSettlementGrace', [id, expiresAt + GRACE]);
    // The node redeems during the grace.
    const receipt = await redeem(c, node, id, owed, voucher);
    expect(
      parseEventLogs({ abi: InferenceEscrowArtifact.abi, logs: receipt.logs, eventName: 'VoucherRedeemed' }).map(
        (l) => l.args,
      ),
    ).toEqual([{ channelId: id, node: node.address, cumulativeAmount: owed, amount: owed }]);
    // After the grace the user gets back only what was never redeemed.
    await warpTo(c, expiresAt + GRACE);
    const closed = await close(c, user, id);
    expect(
      parseEventLogs({ abi: InferenceEscrowArtifact.abi, logs: closed.logs, eventName: 'ChannelClosedByUser' }).map(
        (l) => l.args,
      ),
    ).toEqual([{ channelId: id, refund: 4n * OPEN }]);
    expect(await balanceOf(c, user.address)).toBe(94n * OPEN);
    expect(await feesReceived(c)).toBe(owed);
    expect(await balanceOf(c, distributor(c).address)).toBe(owed);
    expect(await balanceOf(c, escrow(c).address)).toBe(0n);
  });
});
