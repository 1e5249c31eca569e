import { type Address, type HDAccount, zeroAddress } from 'viem';
import { describe, expect, it } from 'vitest';
import {
  advanceTime,
  contractError,
  deployContract,
  OPEN,
  OpenTokenArtifact,
  sendTx,
  signPermit,
  TOTAL_SUPPLY,
  VotingVestingWalletArtifact,
} from '../src/chain/index.js';
import { expectRevert, type TestChain, useTestChain } from '../test/fixtures/chain.js';

const chain = useTestChain();

function permitArgs(
  c: TestChain,
  owner: HDAccount,
  spender: Address,
  value: bigint,
  deadline: bigint,
  overrides: { chainId?: number; verifyingContract?: Address } = {},
) {
  return c.clients.public.readContract({ ...c.token, functionName: 'nonces', args: [owner.address] }).then((nonce) =>
    signPermit(owner, {
      chainId: overrides.chainId ?? c.clients.chain.id,
      token: overrides.verifyingContract ?? c.token.address,
      spender,
      value,
      nonce,
      deadline,
    }),
  );
}

const now = async (c: TestChain) => (await c.clients.public.getBlock()).timestamp;

describe('OpenToken', () => {
  it('is "Open" (OPEN), 18 decimals, exactly 1e9 OPEN, voting on a timestamp clock', async () => {
    const c = chain();
    const read = (functionName: 'name' | 'symbol' | 'decimals' | 'totalSupply' | 'CLOCK_MODE') =>
      c.clients.public.readContract({ ...c.token, functionName });
    expect(await read('name')).toBe('Open');
    expect(await read('symbol')).toBe('OPEN');
    expect(await read('decimals')).toBe(18);
    expect(await read('totalSupply')).toBe(1_000_000_000n * 10n ** 18n);
    expect(await read('CLOCK_MODE')).toBe('mode=timestamp');
  });

  it('has no way to mint after construction', () => {
    const writes = OpenTokenArtifact.abi.filter(
      (i) => i.type === 'function' && i.stateMutability !== 'view' && i.stateMutability !== 'pure',
    );
    expect(writes.map((i) => (i as { name: string }).name).sort()).toEqual([
      'approve',
      'delegate',
      'delegateBySig',
      'permit',
      'transfer',
      'transferFrom',
    ]);
  });

  it('minted the default allocation: 61.71% treasury, 18.29% and 15% vesting, 5% liquidity', async () => {
    const c = chain();
    const byLabel = Object.fromEntries(c.deployment.allocations.map((a) => [a.label, a]));
    expect(byLabel.community?.recipient).toBe(c.timelock.address);
    expect(byLabel.community?.amount).toBe((617_100_000n * OPEN).toString());
    expect(byLabel.investors?.amount).toBe((182_900_000n * OPEN).toString());
    expect(byLabel.team?.amount).toBe((150_000_000n * OPEN).toString());
    expect(byLabel.liquidity?.recipient).toBe(c.deployer.address);
    for (const a of c.deployment.allocations) {
      expect(await c.clients.public.readContract({ ...c.token, functionName: 'balanceOf', args: [a.recipient] })).toBe(
        BigInt(a.amount),
      );
    }
  });

  it('refuses an allocation that does not sum to the supply, an empty one and a zero line', async () => {
    const c = chain();
    const line = (amount: bigint) => ({
      recipient: c.deployer.address,
      amount,
      label: `0x${'00'.repeat(32)}` as const,
    });
    const err = await expectRevert(
      deployContract(c.clients, c.deployer, OpenTokenArtifact, [[line(TOTAL_SUPPLY - 1n)], c.timelock.address]),
      'AllocationSumMismatch',
      [TOTAL_SUPPLY - 1n, TOTAL_SUPPLY],
    );
    expect(err.message).toBe(
      'OpenToken.constructor reverted with AllocationSumMismatch("999999999999999999999999999", "1000000000000000000000000000")',
    );
    await expectRevert(
      deployContract(c.clients, c.deployer, OpenTokenArtifact, [[line(TOTAL_SUPPLY), line(1n)], c.timelock.address]),
      'AllocationSumMismatch',
    );
    await expectRevert(
      deployContract(c.clients, c.deployer, OpenTokenArtifact, [[], c.timelock.address]),
      'EmptyAllocation',
    );
    await expectRevert(
      deployContract(c.clients, c.deployer, OpenTokenArtifact, [[line(TOTAL_SUPPLY), line(0n)], c.timelock.address]),
      'ZeroAllocation',
      [1n],
    );
    await expectRevert(
      deployContract(c.clients, c.deployer, OpenTokenArtifact, [
        [{ ...line(TOTAL_SUPPLY), recipient: zeroAddress }],
        c.timelock.address,
      ]),
      'ERC20InvalidReceiver',
    );
    await expectRevert(
      deployContract(c.clients, c.deployer, OpenTokenArtifact, [[line(TOTAL_SUPPLY)], zeroAddress]),
      'ZeroTreasury',
    );
  });

  it('keeps the treasury balance history from the mint on, and the votable supply is the rest', async () => {
    const c = chain();
    const [user] = c.users as [HDAccount];
    const read = (functionName: 'getPastTreasuryBalance' | 'getPastVotableSupply', t: bigint) =>
      c.clients.public.readContract({ ...c.token, functionName, args: [t] });
    expect(await c.clients.public.readContract({ ...c.token, functionName: 'treasury' })).toBe(c.timelock.address);
    const deployedAt = BigInt(Date.parse(c.deployment.deployedAt) / 1000);
    expect(await read('getPastTreasuryBalance', deployedAt - 1n)).toBe(0n);
    const t0 = (await now(c)) - 1n;
    expect(await read('getPastTreasuryBalance', t0)).toBe(617_100_000n * OPEN);
    expect(await read('getPastVotableSupply', t0)).toBe(382_900_000n * OPEN);
    // Into the treasury (as slashed stake does) and out of it (as a grant does), each checkpointed.
    await sendTx(c.clients, c.deployer, { ...c.token, functionName: 'transfer', args: [c.timelock.address, OPEN] });
    const tl = await c.impersonate(c.timelock.address);
    await advanceTime(c.clients, 10);
    const t1 = (await now(c)) - 1n;
    await sendTx(c.clients, tl, { ...c.token, functionName: 'transfer', args: [user.address, 1_000n * OPEN] });
    await advanceTime(c.clients, 10);
    expect(await read('getPastTreasuryBalance', t1)).toBe(617_100_001n * OPEN);
    expect(await read('getPastTreasuryBalance', (await now(c)) - 1n)).toBe(617_099_001n * OPEN);
    expect(await read('getPastVotableSupply', (await now(c)) - 1n)).toBe(382_900_999n * OPEN);
    await expectRevert(
      read('getPastTreasuryBalance', await now(c)).catch((e: unknown) => {
        throw contractError(e, 'OpenToken.getPastTreasuryBalance', OpenTokenArtifact.abi);
      }),
      'ERC5805FutureLookup',
    );
  });

  describe('permit (EIP-2612)', () => {
    it('sets an allowance from a signature bound to chain, token and nonce', async () => {
      const c = chain();
      const [owner, spender] = c.users as [HDAccount, HDAccount];
      const args = await permitArgs(c, owner, spender.address, 5n * OPEN, (await now(c)) + 3600n);
      await sendTx(c.clients, spender, { ...c.token, functionName: 'permit', args });
      expect(
        await c.clients.public.readContract({
          ...c.token,
          functionName: 'allowance',
          args: [owner.address, spender.address],
        }),
      ).toBe(5n * OPEN);
    });

    it('refuses a replayed permit', async () => {
      const c = chain();
      const [owner, spender] = c.users as [HDAccount, HDAccount];
      const args = await permitArgs(c, owner, spender.address, 5n * OPEN, (await now(c)) + 3600n);
      await sendTx(c.clients, spender, { ...c.token, functionName: 'permit', args });
      await expectRevert(
        sendTx(c.clients, spender, { ...c.token, functionName: 'permit', args }),
        'ERC2612InvalidSigner',
      );
    });

    it('refuses a permit signed for another chain id', async () => {
      const c = chain();
      const [owner, spender] = c.users as [HDAccount, HDAccount];
      const args = await permitArgs(c, owner, spender.address, OPEN, (await now(c)) + 3600n, { chainId: 10 });
      await expectRevert(
        sendTx(c.clients, spender, { ...c.token, functionName: 'permit', args }),
        'ERC2612InvalidSigner',
      );
    });

    it('refuses a permit signed for another token contract', async () => {
      const c = chain();
      const [owner, spender] = c.users as [HDAccount, HDAccount];
      const args = await permitArgs(c, owner, spender.address, OPEN, (await now(c)) + 3600n, {
        verifyingContract: c.staking.address,
      });
      await expectRevert(
        sendTx(c.clients, spender, { ...c.token, functionName: 'permit', args }),
        'ERC2612InvalidSigner',
      );
    });

    it('refuses an expired permit', async () => {
      const c = chain();
      const [owner, spender] = c.users as [HDAccount, HDAccount];
      const deadline = (await now(c)) - 1n;
      const args = await permitArgs(c, owner, spender.address, OPEN, deadline);
      await expectRevert(
        sendTx(c.clients, spender, { ...c.token, functionName: 'permit', args }),
        'ERC2612ExpiredSignature',
        [deadline],
      );
    });
  });

  it('counts votes only after delegation, and checkpoints them', async () => {
    const c = chain();
    const [holder] = c.users as [HDAccount];
    await sendTx(c.clients, c.deployer, {
      ...c.token,
      functionName: 'transfer',
      args: [holder.address, 1_000n * OPEN],
    });
    const votes = () => c.clients.public.readContract({ ...c.token, functionName: 'getVotes', args: [holder.address] });
    expect(await votes()).toBe(0n);
    await sendTx(c.clients, holder, { ...c.token, functionName: 'delegate', args: [holder.address] });
    expect(await votes()).toBe(1_000n * OPEN);
    const t = await now(c);
    await advanceTime(c.clients, 10);
    expect(
      await c.clients.public.readContract({ ...c.token, functionName: 'getPastVotes', args: [holder.address, t] }),
    ).toBe(1_000n * OPEN);
  });
});

describe('VotingVestingWallet', () => {
  const MONTH = 30 * 86_400;

  it('releases nothing before the 12-month cliff, then linearly over 36 months', async () => {
    const c = chain();
    const team = c.deployment.allocations.find((a) => a.label === 'team');
    if (!team) throw new Error('no team allocation');
    const wallet = {
      address: team.recipient,
      abi: VotingVestingWalletArtifact.abi,
      contract: 'VotingVestingWallet',
    } as const;
    const releasable = () =>
      c.clients.public.readContract({ ...wallet, functionName: 'releasable', args: [c.token.address] });
    expect(await releasable()).toBe(0n);
    await advanceTime(c.clients, 12 * MONTH - 3600);
    expect(await releasable()).toBe(0n);
    await advanceTime(c.clients, 3600 + 18 * MONTH);
    const half = await releasable();
    const total = BigInt(team.amount);
    expect(half).toBeGreaterThan((total * 499n) / 1000n);
    expect(half).toBeLessThan((total * 501n) / 1000n);
    await sendTx(c.clients, c.team, { ...wallet, functionName: 'release', args: [c.token.address] });
    expect(
      await c.clients.public.readContract({ ...c.token, functionName: 'balanceOf', args: [c.team.address] }),
    ).toBeGreaterThanOrEqual(half);
    await advanceTime(c.clients, 18 * MONTH);
    await sendTx(c.clients, c.team, { ...wallet, functionName: 'release', args: [c.token.address] });
    expect(await c.clients.public.readContract({ ...c.token, functionName: 'balanceOf', args: [c.team.address] })).toBe(
      total,
    );
  });

  it('lets only the beneficiary delegate the locked votes', async () => {
    const c = chain();
    const team = c.deployment.allocations.find((a) => a.label === 'team');
    if (!team) throw new Error('no team allocation');
    const wallet = {
      address: team.recipient,
      abi: VotingVestingWalletArtifact.abi,
      contract: 'VotingVestingWallet',
    } as const;
    const [stranger] = c.users as [HDAccount];
    await expectRevert(
      sendTx(c.clients, stranger, { ...wallet, functionName: 'delegate', args: [c.token.address, stranger.address] }),
      'OwnableUnauthorizedAccount',
      [stranger.address],
    );
    expect(await c.clients.public.readContract({ ...c.token, functionName: 'getVotes', args: [c.team.address] })).toBe(
      BigInt(team.amount),
    );
  });
});
