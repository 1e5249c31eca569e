import {
  type Address,
  type HDAccount,
  type Hex,
  keccak256,
  padHex,
  parseEventLogs,
  stringToHex,
  toHex,
  zeroAddress,
  zeroHash,
} from 'viem';
import { describe, expect, it } from 'vitest';
import {
  contractError,
  defaultDeployParameters,
  delegateVotesLocally,
  deployContract,
  deployProtocol,
  encodeCall,
  OPEN,
  OpenTokenArtifact,
  passProposal,
  roleIds,
  StakingArtifact,
  stakingRoles,
  TimelockArtifact,
  TOTAL_SUPPLY,
  TributaryGovernorArtifact,
} from '../src/chain/index.js';
import { expectRevert, send, type TestChain, useTestChain, warpTo } from '../test/fixtures/chain.js';

const chain = useTestChain();

const DAY = 86_400n;
const State = { Pending: 0, Active: 1, Canceled: 2, Defeated: 3, Succeeded: 4, Queued: 5, Expired: 6, Executed: 7 };
const Vote = { Against: 0, For: 1, Abstain: 2 };
/** The `expectedStates` bitmap of OpenZeppelin's state errors: bit i set for state i. */
const bitmap = (...states: number[]) =>
  toHex(
    states.reduce((m, s) => m | (1n << BigInt(s)), 0n),
    { size: 32 },
  );

const blockTime = async (c: TestChain) => (await c.clients.public.getBlock()).timestamp;
const readGovernor = <T>(c: TestChain, functionName: string, args: readonly unknown[] = []) =>
  c.clients.public.readContract({ ...c.governor, functionName, args } as never) as Promise<T>;
const readTimelock = <T>(c: TestChain, functionName: string, args: readonly unknown[] = []) =>
  c.clients.public.readContract({ ...c.timelock, functionName, args } as never) as Promise<T>;
const state = (c: TestChain, id: bigint) => readGovernor<number>(c, 'state', [id]);

interface Proposal {
  targets: Address[];
  values: bigint[];
  calldatas: Hex[];
  description: string;
  descriptionHash: Hex;
}

function proposal(actions: { target: Address; data: Hex }[], description: string): Proposal {
  return {
    targets: actions.map((a) => a.target),
    values: actions.map(() => 0n),
    calldatas: actions.map((a) => a.data),
    description,
    descriptionHash: keccak256(stringToHex(description)),
  };
}

/** A proposal to set the validator minimum stake (owned by the timelock). */
const setValidatorMinimum = (c: TestChain, amount: bigint, description = `Validator minimum ${amount}`) =>
  proposal(
    [
      {
        target: c.staking.address,
        data: encodeCall(StakingArtifact.abi, 'setMinimumStake', [stakingRoles.validator, amount]),
      },
    ],
    description,
  );

async function propose(c: TestChain, proposer: HDAccount, p: Proposal): Promise<bigint> {
  const id = await readGovernor<bigint>(c, 'hashProposal', [p.targets, p.values, p.calldatas, p.descriptionHash]);
  await send(c, proposer, {
    ...c.governor,
    functionName: 'propose',
    args: [p.targets, p.values, p.calldatas, p.description],
  });
  return id;
}
const castVote = (c: TestChain, voter: HDAccount, id: bigint, support: number) =>
  send(c, voter, { ...c.governor, functionName: 'castVote', args: [id, support] });
const queue = (c: TestChain, who: HDAccount, p: Proposal) =>
  send(c, who, { ...c.governor, functionName: 'queue', args: [p.targets, p.values, p.calldatas, p.descriptionHash] });
const execute = (c: TestChain, who: HDAccount, p: Proposal) =>
  send(c, who, {
    ...c.governor,
    functionName: 'execute',
    args: [p.targets, p.values, p.calldatas, p.descriptionHash],
  });
const afterVotingDelay = async (c: TestChain, id: bigint) =>
  warpTo(c, (await readGovernor<bigint>(c, 'proposalSnapshot', [id])) + 1n);
const afterVotingPeriod = async (c: TestChain, id: bigint) =>
  warpTo(c, (await readGovernor<bigint>(c, 'proposalDeadline', [id])) + 1n);

/** Gives `who` `amount` OPEN from the deployer's liquidity, self-delegated, counted from the next second on. */
async function giveVotes(c: TestChain, who: HDAccount, amount: bigint): Promise<void> {
  await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [who.address, amount] });
  await send(c, who, { ...c.token, functionName: 'delegate', args: [who.address] });
  await warpTo(c, (await blockTime(c)) + 1n);
}

describe('Governor: parameters as deployed', () => {
  it('has a 1-day delay, 2-week period, 100 OPEN threshold and a quorum of 25% of the votable supply on a timestamp clock', async () => {
    const c = chain();
    expect(await readGovernor<string>(c, 'name')).toBe('Tributary Governor');
    expect(await readGovernor<bigint>(c, 'votingDelay')).toBe(86_400n);
    expect(await readGovernor<bigint>(c, 'votingPeriod')).toBe(1_209_600n);
    expect(await readGovernor<bigint>(c, 'proposalThreshold')).toBe(100n * OPEN);
    expect(await readGovernor<bigint>(c, 'quorumNumerator')).toBe(25n);
    expect(await readGovernor<bigint>(c, 'quorumDenominator')).toBe(100n);
    expect(await readGovernor<string>(c, 'CLOCK_MODE')).toBe('mode=timestamp');
    const now = await blockTime(c);
    expect(BigInt(await readGovernor<number>(c, 'clock'))).toBe(now);
    // 25% of the supply that can vote: the total minus the 61.71% the treasury holds, i.e. 9.5725% of the supply.
    expect(await readGovernor<bigint>(c, 'quorum', [now - 1n])).toBe((TOTAL_SUPPLY - 617_100_000n * OPEN) / 4n);
    expect(await readGovernor<bigint>(c, 'quorum', [now - 1n])).toBe(95_725_000n * OPEN);
    expect(await readGovernor<Address>(c, 'token')).toBe(c.token.address);
    expect(await readGovernor<Address>(c, 'timelock')).toBe(c.timelock.address);
    expect(await readTimelock<bigint>(c, 'getMinDelay')).toBe(86_400n);
  });

  it('reads the quorum at a past timepoint only', async () => {
    const c = chain();
    const now = await blockTime(c);
    await expectRevert(
      (readGovernor<bigint>(c, 'quorum', [now]) as Promise<bigint>).catch((e: unknown) => {
        throw contractError(e, 'Governor.quorum', TributaryGovernorArtifact.abi);
      }),
      'ERC5805FutureLookup',
      [now, Number(now)],
    );
  });

  it('wires the timelock: the governor proposes and cancels, anyone executes, nobody else administers', async () => {
    const c = chain();
    const hasRole = (role: Hex, who: Address) => readTimelock<boolean>(c, 'hasRole', [role, who]);
    expect(await hasRole(roleIds.PROPOSER, c.governor.address)).toBe(true);
    expect(await hasRole(roleIds.CANCELLER, c.governor.address)).toBe(true);
    expect(await hasRole(roleIds.EXECUTOR, zeroAddress)).toBe(true);
    expect(await hasRole(roleIds.DEFAULT_ADMIN, c.timelock.address)).toBe(true);
    for (const who of [c.deployer.address, c.investor.address, c.team.address]) {
      expect(await hasRole(roleIds.DEFAULT_ADMIN, who)).toBe(false);
      expect(await hasRole(roleIds.PROPOSER, who)).toBe(false);
      expect(await hasRole(roleIds.CANCELLER, who)).toBe(false);
    }
  });
});

describe('Governor: proposing and voting', () => {
  it('refuses a proposal from an account below the 100 OPEN threshold', async () => {
    const c = chain();
    const [user] = c.users as [HDAccount];
    const err = await expectRevert(propose(c, user, setValidatorMinimum(c, 1n)), 'GovernorInsufficientProposerVotes', [
      user.address,
      0n,
      100n * OPEN,
    ]);
    expect(err.message).toBe(
      `Governor.propose reverted with GovernorInsufficientProposerVotes("${user.address}", "0", "100000000000000000000")`,
    );
    // Holding is not enough: votes count once delegated, and at the threshold exactly.
    await giveVotes(c, user, 99n * OPEN);
    await expectRevert(propose(c, user, setValidatorMinimum(c, 1n)), 'GovernorInsufficientProposerVotes', [
      user.address,
      99n * OPEN,
      100n * OPEN,
    ]);
    await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [user.address, OPEN] });
    await warpTo(c, (await blockTime(c)) + 1n);
    const id = await propose(c, user, setValidatorMinimum(c, 1n));
    expect(await state(c, id)).toBe(State.Pending);
  });

  it('opens the vote only after the voting delay', async () => {
    const c = chain();
    const p = setValidatorMinimum(c, 1n);
    const id = await propose(c, c.investor, p);
    const snapshot = await readGovernor<bigint>(c, 'proposalSnapshot', [id]);
    const deadline = await readGovernor<bigint>(c, 'proposalDeadline', [id]);
    expect(snapshot - (await blockTime(c))).toBe(DAY);
    expect(deadline - snapshot).toBe(14n * DAY);
    const err = await expectRevert(castVote(c, c.investor, id, Vote.For), 'GovernorUnexpectedProposalState', [
      id,
      State.Pending,
      bitmap(State.Active),
    ]);
    expect(err.details.args).toEqual([id.toString(), 0, `0x${'0'.repeat(63)}2`]);
    await warpTo(c, snapshot);
    expect(await state(c, id)).toBe(State.Pending);
    await expectRevert(castVote(c, c.investor, id, Vote.For), 'GovernorUnexpectedProposalState', [
      id,
      State.Pending,
      bitmap(State.Active),
    ]);
    await warpTo(c, snapshot + 1n);
    expect(await state(c, id)).toBe(State.Active);
    const receipt = await castVote(c, c.investor, id, Vote.For);
    const [event] = parseEventLogs({ abi: TributaryGovernorArtifact.abi, logs: receipt.logs, eventName: 'VoteCast' });
    expect(event?.args).toEqual({
      voter: c.investor.address,
      proposalId: id,
      support: Vote.For,
      weight: 182_900_000n * OPEN,
      reason: '',
    });
  });

  it('refuses a second vote from the same account', async () => {
    const c = chain();
    const id = await propose(c, c.investor, setValidatorMinimum(c, 1n));
    await afterVotingDelay(c, id);
    await castVote(c, c.team, id, Vote.For);
    const err = await expectRevert(castVote(c, c.team, id, Vote.Against), 'GovernorAlreadyCastVote', [c.team.address]);
    expect(err.message).toBe(`Governor.castVote reverted with GovernorAlreadyCastVote("${c.team.address}")`);
    expect(await readGovernor<readonly bigint[]>(c, 'proposalVotes', [id])).toEqual([0n, 150_000_000n * OPEN, 0n]);
  });

  it('ends Defeated without quorum (5% besides the largest vote < 9.57%) and cannot be queued', async () => {
    const c = chain();
    const p = setValidatorMinimum(c, 1n);
    const id = await propose(c, c.investor, p);
    await afterVotingDelay(c, id);
    await castVote(c, c.investor, id, Vote.For);
    await castVote(c, c.deployer, id, Vote.Abstain);
    await afterVotingPeriod(c, id);
    expect(await readGovernor<readonly bigint[]>(c, 'proposalVotes', [id])).toEqual([
      0n,
      182_900_000n * OPEN,
      50_000_000n * OPEN,
    ]);
    const snapshot = await readGovernor<bigint>(c, 'proposalSnapshot', [id]);
    expect(await readGovernor<bigint>(c, 'quorum', [snapshot])).toBe(95_725_000n * OPEN);
    // 23.29% took part, more than the quorum, but the investors' 18.29% is the largest vote and does not count.
    expect(await readGovernor<readonly [Address, bigint]>(c, 'largestVote', [id])).toEqual([
      c.investor.address,
      182_900_000n * OPEN,
    ]);
    expect(await readGovernor<readonly bigint[]>(c, 'quorumProgress', [id])).toEqual([
      50_000_000n * OPEN,
      95_725_000n * OPEN,
    ]);
    expect(await state(c, id)).toBe(State.Defeated);
    expect(await state(c, id)).toBe(3);
    await expectRevert(queue(c, c.investor, p), 'GovernorUnexpectedProposalState', [
      id,
      State.Defeated,
      bitmap(State.Succeeded),
    ]);
    await expectRevert(execute(c, c.investor, p), 'GovernorUnexpectedProposalState', [
      id,
      State.Defeated,
      bitmap(State.Queued),
    ]);
  });

  it('lets only the proposer cancel, and only while the proposal is pending', async () => {
    const c = chain();
    const cancel = (who: HDAccount, p: Proposal) =>
      send(c, who, {
        ...c.governor,
        functionName: 'cancel',
        args: [p.targets, p.values, p.calldatas, p.descriptionHash],
      });
    const first = setValidatorMinimum(c, 1n, 'Cancelled while pending');
    const id1 = await propose(c, c.investor, first);
    await expectRevert(cancel(c.team, first), 'GovernorUnableToCancel', [id1, c.team.address]);
    await cancel(c.investor, first);
    expect(await state(c, id1)).toBe(State.Canceled);
    await afterVotingDelay(c, id1);
    await expectRevert(castVote(c, c.team, id1, Vote.For), 'GovernorUnexpectedProposalState', [
      id1,
      State.Canceled,
      bitmap(State.Active),
    ]);

    const second = setValidatorMinimum(c, 1n, 'Too late to cancel');
    const id2 = await propose(c, c.investor, second);
    await afterVotingDelay(c, id2);
    await expectRevert(cancel(c.investor, second), 'GovernorUnableToCancel', [id2, c.investor.address]);
    expect(await state(c, id2)).toBe(State.Active);
  });

  it('ends Defeated when against outweighs for, even with quorum', async () => {
    const c = chain();
    const [whale] = c.users as [HDAccount];
    // A holder granted 20% of the supply from the treasury votes against.
    const tl = await c.impersonate(c.timelock.address);
    await send(c, tl, { ...c.token, functionName: 'transfer', args: [whale.address, 200_000_000n * OPEN] });
    await send(c, whale, { ...c.token, functionName: 'delegate', args: [whale.address] });
    const p = setValidatorMinimum(c, 1n);
    const id = await propose(c, c.investor, p);
    await afterVotingDelay(c, id);
    await castVote(c, c.investor, id, Vote.For);
    await castVote(c, c.team, id, Vote.Abstain);
    await castVote(c, whale, id, Vote.Against);
    await afterVotingPeriod(c, id);
    // for 18.29% + abstain 15% reach quorum; against 20% > for 18.29%.
    expect(await state(c, id)).toBe(State.Defeated);
  });
});

describe('Governor: queue and execute through the timelock', () => {
  it('runs the full cycle and changes a Staking parameter (setMinimumStake)', async () => {
    const c = chain();
    const p = setValidatorMinimum(c, 25_000n * OPEN, 'Raise the validator minimum to 25,000 OPEN');
    const id = await propose(c, c.investor, p);
    expect(await state(c, id)).toBe(State.Pending);
    await afterVotingDelay(c, id);
    expect(await state(c, id)).toBe(State.Active);
    await castVote(c, c.investor, id, Vote.For);
    await castVote(c, c.team, id, Vote.For);
    await castVote(c, c.deployer, id, Vote.Against);
    await afterVotingPeriod(c, id);
    expect(await state(c, id)).toBe(State.Succeeded);

    const queued = await queue(c, c.team, p);
    const [q] = parseEventLogs({ abi: TributaryGovernorArtifact.abi, logs: queued.logs, eventName: 'ProposalQueued' });
    const eta = await readGovernor<bigint>(c, 'proposalEta', [id]);
    expect(q?.args).toEqual({ proposalId: id, etaSeconds: eta });
    expect(eta - (await c.clients.public.getBlock({ blockNumber: queued.blockNumber })).timestamp).toBe(DAY);
    expect(await state(c, id)).toBe(State.Queued);

    // Not before the timelock delay: the timelock refuses an operation that is not Ready.
    const salt = padHex(c.governor.address, { size: 32, dir: 'right' });
    const saltXor = toHex(BigInt(salt) ^ BigInt(p.descriptionHash), { size: 32 });
    const operationId = await readTimelock<Hex>(c, 'hashOperationBatch', [
      p.targets,
      p.values,
      p.calldatas,
      zeroHash,
      saltXor,
    ]);
    expect(await readTimelock<boolean>(c, 'isOperationPending', [operationId])).toBe(true);
    const err = await expectRevert(execute(c, c.investor, p), 'TimelockUnexpectedOperationState', [
      operationId,
      bitmap(2), // Ready
    ]);
    expect(err.message).toMatch(
      /^Governor\.execute reverted with TimelockUnexpectedOperationState\("0x[0-9a-f]{64}", /,
    );
    await warpTo(c, eta - 1n);
    await expectRevert(execute(c, c.investor, p), 'TimelockUnexpectedOperationState', [operationId, bitmap(2)]);
    await warpTo(c, eta);

    // Anyone may execute once Ready (the executor role is open).
    const [stranger] = c.users as [HDAccount];
    const receipt = await execute(c, stranger, p);
    const [executed] = parseEventLogs({
      abi: TributaryGovernorArtifact.abi,
      logs: receipt.logs,
      eventName: 'ProposalExecuted',
    });
    expect(executed?.args.proposalId).toBe(id);
    const [set] = parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'MinimumStakeSet' });
    expect(set?.args).toEqual({ role: stakingRoles.validator, amount: 25_000n * OPEN });
    expect(set?.address).toBe(c.staking.address.toLowerCase());
    expect(await state(c, id)).toBe(State.Executed);
    expect(
      await c.clients.public.readContract({
        ...c.staking,
        functionName: 'minimumStake',
        args: [stakingRoles.validator],
      }),
    ).toBe(25_000n * OPEN);
    expect(await readTimelock<boolean>(c, 'isOperationDone', [operationId])).toBe(true);
    // Done is done.
    await expectRevert(execute(c, c.investor, p), 'GovernorUnexpectedProposalState', [
      id,
      State.Executed,
      bitmap(State.Queued),
    ]);
  });

  it('lets nobody but the governor schedule, cancel or change the delay on the timelock', async () => {
    const c = chain();
    const [user] = c.users as [HDAccount];
    const data = encodeCall(StakingArtifact.abi, 'setMinimumStake', [stakingRoles.validator, 1n]);
    for (const who of [user, c.deployer, c.investor]) {
      await expectRevert(
        send(c, who, {
          ...c.timelock,
          functionName: 'schedule',
          args: [c.staking.address, 0n, data, zeroHash, zeroHash, DAY],
        }),
        'AccessControlUnauthorizedAccount',
        [who.address, roleIds.PROPOSER],
      );
      await expectRevert(
        send(c, who, {
          ...c.timelock,
          functionName: 'scheduleBatch',
          args: [[c.staking.address], [0n], [data], zeroHash, zeroHash, DAY],
        }),
        'AccessControlUnauthorizedAccount',
        [who.address, roleIds.PROPOSER],
      );
      await expectRevert(
        send(c, who, { ...c.timelock, functionName: 'cancel', args: [zeroHash] }),
        'AccessControlUnauthorizedAccount',
        [who.address, roleIds.CANCELLER],
      );
      await expectRevert(
        send(c, who, { ...c.timelock, functionName: 'updateDelay', args: [0n] }),
        'TimelockUnauthorizedCaller',
        [who.address],
      );
      await expectRevert(
        send(c, who, { ...c.timelock, functionName: 'grantRole', args: [roleIds.PROPOSER, who.address] }),
        'AccessControlUnauthorizedAccount',
        [who.address, roleIds.DEFAULT_ADMIN],
      );
    }
    // Executing an operation that was never scheduled fails even though execution is open to all.
    const id = await readTimelock<Hex>(c, 'hashOperation', [c.staking.address, 0n, data, zeroHash, zeroHash]);
    await expectRevert(
      send(c, user, {
        ...c.timelock,
        functionName: 'execute',
        args: [c.staking.address, 0n, data, zeroHash, zeroHash],
      }),
      'TimelockUnexpectedOperationState',
      [id, bitmap(2)],
    );
    // The governor itself cannot skip the delay.
    const governor = await c.impersonate(c.governor.address);
    await expectRevert(
      send(c, governor, {
        ...c.timelock,
        functionName: 'schedule',
        args: [c.staking.address, 0n, data, zeroHash, zeroHash, DAY - 1n],
      }),
      'TimelockInsufficientDelay',
      [DAY - 1n, DAY],
    );
  });

  it('changes the governor settings only through a proposal (onlyGovernance via the timelock)', async () => {
    const c = chain();
    const [user] = c.users as [HDAccount];
    await expectRevert(
      send(c, user, { ...c.governor, functionName: 'setVotingPeriod', args: [7 * 86_400] }),
      'GovernorOnlyExecutor',
      [user.address],
    );
    await expectRevert(
      send(c, c.investor, { ...c.governor, functionName: 'updateQuorumNumerator', args: [10n] }),
      'GovernorOnlyExecutor',
      [c.investor.address],
    );
    // Even the timelock, called outside an executing proposal, is refused (empty governance-call queue).
    const tl = await c.impersonate(c.timelock.address);
    // Panic 0x31 (pop from an empty queue): the governor finds no matching call of a proposal being executed.
    await expectRevert(send(c, tl, { ...c.governor, functionName: 'setVotingPeriod', args: [7 * 86_400] }), 'Panic', [
      0x31n,
    ]);

    const gov = TributaryGovernorArtifact.abi;
    const { receipts } = await passProposal({
      clients: c.clients,
      deployment: c.deployment,
      proposer: c.investor,
      voters: [c.investor, c.team],
      actions: [
        { target: c.governor.address, data: encodeCall(gov, 'setVotingPeriod', [7 * 86_400]) },
        { target: c.governor.address, data: encodeCall(gov, 'setVotingDelay', [2 * 86_400]) },
        { target: c.governor.address, data: encodeCall(gov, 'setProposalThreshold', [1_000n * OPEN]) },
        { target: c.governor.address, data: encodeCall(gov, 'updateQuorumNumerator', [30n]) },
      ],
      description: 'Shorter votes, longer delay, higher threshold and quorum',
    });
    const logs = receipts.execute.logs;
    expect(parseEventLogs({ abi: gov, logs, eventName: 'VotingPeriodSet' })[0]?.args).toEqual({
      oldVotingPeriod: 1_209_600n,
      newVotingPeriod: 604_800n,
    });
    expect(parseEventLogs({ abi: gov, logs, eventName: 'VotingDelaySet' })[0]?.args).toEqual({
      oldVotingDelay: 86_400n,
      newVotingDelay: 172_800n,
    });
    expect(await readGovernor<bigint>(c, 'votingPeriod')).toBe(604_800n);
    expect(await readGovernor<bigint>(c, 'votingDelay')).toBe(172_800n);
    expect(await readGovernor<bigint>(c, 'proposalThreshold')).toBe(1_000n * OPEN);
    expect(await readGovernor<bigint>(c, 'quorumNumerator')).toBe(30n);

    // The new settings apply to the next proposal.
    const id = await propose(c, c.investor, setValidatorMinimum(c, 1n));
    const snapshot = await readGovernor<bigint>(c, 'proposalSnapshot', [id]);
    expect(snapshot - (await blockTime(c))).toBe(2n * DAY);
    expect((await readGovernor<bigint>(c, 'proposalDeadline', [id])) - snapshot).toBe(7n * DAY);
    await giveVotes(c, user, 500n * OPEN);
    await expectRevert(propose(c, user, setValidatorMinimum(c, 2n)), 'GovernorInsufficientProposerVotes', [
      user.address,
      500n * OPEN,
      1_000n * OPEN,
    ]);
  });

  it('can change the timelock delay through a proposal', async () => {
    const c = chain();
    const { receipts } = await passProposal({
      clients: c.clients,
      deployment: c.deployment,
      proposer: c.investor,
      voters: [c.investor, c.team],
      actions: [{ target: c.timelock.address, data: encodeCall(TimelockArtifact.abi, 'updateDelay', [2n * DAY]) }],
      description: 'Two-day timelock',
    });
    const [event] = parseEventLogs({
      abi: TimelockArtifact.abi,
      logs: receipts.execute.logs,
      eventName: 'MinDelayChange',
    });
    expect(event?.args).toEqual({ oldDuration: DAY, newDuration: 2n * DAY });
    expect(await readTimelock<bigint>(c, 'getMinDelay')).toBe(2n * DAY);
  });
});

describe('Governor: one insider block cannot pass proposals alone (issue 10, attack 7)', () => {
  /**
   * The deployment `tributary up --rpc` made when no beneficiaries were configured: the team and investor vesting
   * wallets and the liquidity all belonged to the deployer, 38.29% of the votes against a 25% quorum, while the
   * 61.71% community allocation sat undelegated in the timelock.
   */
  async function deployerOwnedDeployment(c: TestChain, deployer: HDAccount): Promise<TestChain> {
    const deployment = await deployProtocol({
      clients: c.clients,
      deployer,
      parameters: defaultDeployParameters({ deployer: deployer.address }),
    });
    await delegateVotesLocally(c.clients, deployment, [deployer]);
    const k = deployment.contracts;
    return {
      ...c,
      deployment,
      deployer,
      token: { address: k.OpenToken, abi: OpenTokenArtifact.abi, contract: 'OpenToken' },
      staking: { address: k.Staking, abi: StakingArtifact.abi, contract: 'Staking' },
      governor: { address: k.Governor, abi: TributaryGovernorArtifact.abi, contract: 'Governor' },
      timelock: { address: k.Timelock, abi: TimelockArtifact.abi, contract: 'Timelock' },
    };
  }

  it('attack: deployer alone cannot pass a proposal with the default allocation', async () => {
    const [deployer, validator] = chain().users as [HDAccount, HDAccount];
    const c = await deployerOwnedDeployment(chain(), deployer);
    const votes = (who: Address) =>
      c.clients.public.readContract({ ...c.token, functionName: 'getVotes', args: [who] });
    const balance = (who: Address) =>
      c.clients.public.readContract({ ...c.token, functionName: 'balanceOf', args: [who] });
    expect(await votes(deployer.address)).toBe(382_900_000n * OPEN); // team 15% + investors 18.29% + liquidity 5%

    // An honest validator stakes.
    const stake = 20_000n * OPEN;
    await send(c, deployer, { ...c.token, functionName: 'transfer', args: [validator.address, stake] });
    await send(c, validator, { ...c.token, functionName: 'approve', args: [c.staking.address, stake] });
    await send(c, validator, { ...c.staking, functionName: 'stake', args: [stakingRoles.validator, stake] });
    await warpTo(c, (await blockTime(c)) + 1n);
    const treasury = await balance(c.timelock.address);
    expect(treasury).toBe(617_100_000n * OPEN);

    // The deployer, alone, proposes to slash the validator and to move the treasury to itself, and votes for it.
    const p = proposal(
      [
        {
          target: c.staking.address,
          data: encodeCall(StakingArtifact.abi, 'slash', [
            validator.address,
            stakingRoles.validator,
            stake,
            keccak256(stringToHex('made-up misconduct')),
          ]),
        },
        { target: c.token.address, data: encodeCall(OpenTokenArtifact.abi, 'transfer', [deployer.address, treasury]) },
      ],
      'Slash a misbehaving validator; fund operations',
    );
    const id = await propose(c, deployer, p);
    await afterVotingDelay(c, id);
    await castVote(c, deployer, id, Vote.For);
    await afterVotingPeriod(c, id);
    expect(await readGovernor<readonly bigint[]>(c, 'proposalVotes', [id])).toEqual([
      0n,
      382_900_000n * OPEN - stake,
      0n,
    ]);

    expect(await state(c, id)).toBe(State.Defeated);
    // Its votes are all the votes there are, yet the largest vote never counts towards the quorum.
    expect(await readGovernor<readonly [Address, bigint]>(c, 'largestVote', [id])).toEqual([
      deployer.address,
      382_900_000n * OPEN - stake,
    ]);
    expect(await readGovernor<readonly bigint[]>(c, 'quorumProgress', [id])).toEqual([0n, 95_725_000n * OPEN]);
    await expectRevert(queue(c, deployer, p), 'GovernorUnexpectedProposalState', [
      id,
      State.Defeated,
      bitmap(State.Succeeded),
    ]);
    expect(
      await c.clients.public.readContract({
        ...c.staking,
        functionName: 'stakeOf',
        args: [validator.address, stakingRoles.validator],
      }),
    ).toBe(stake);
    expect(await balance(c.timelock.address)).toBe(treasury);
  });
});

describe('Governor: quorum of the votable supply, met without the largest vote', () => {
  it('measures the quorum against the supply that can vote at the snapshot: treasury grants raise it later only', async () => {
    const c = chain();
    const [holder] = c.users as [HDAccount];
    const before = await blockTime(c);
    const tl = await c.impersonate(c.timelock.address);
    await send(c, tl, { ...c.token, functionName: 'transfer', args: [holder.address, 100_000_000n * OPEN] });
    await warpTo(c, (await blockTime(c)) + 1n);
    const after = (await blockTime(c)) - 1n;
    const votable = (t: bigint) =>
      c.clients.public.readContract({ ...c.token, functionName: 'getPastVotableSupply', args: [t] });
    expect(await votable(before - 1n)).toBe(382_900_000n * OPEN);
    expect(await votable(after)).toBe(482_900_000n * OPEN);
    expect(await readGovernor<bigint>(c, 'quorum', [before - 1n])).toBe(95_725_000n * OPEN);
    expect(await readGovernor<bigint>(c, 'quorum', [after])).toBe(120_725_000n * OPEN);
  });

  it('refuses a token whose treasury is not its timelock (GovernorTreasuryNotTimelock)', async () => {
    const c = chain();
    const err = await expectRevert(
      deployContract(c.clients, c.deployer, TributaryGovernorArtifact, [
        c.token.address,
        c.staking.address,
        86_400,
        1_209_600,
        100n * OPEN,
        25n,
      ]),
      'GovernorTreasuryNotTimelock',
      [c.timelock.address, c.staking.address],
    );
    expect(err.message).toBe(
      `TributaryGovernor.constructor reverted with GovernorTreasuryNotTimelock("${c.timelock.address}", "${c.staking.address}")`,
    );
  });

  it('a holder of one vesting allocation and the liquidity cannot pass however it splits its delegation', async () => {
    const c = chain();
    // One party holding the investors' wallet (18.29%, one delegate, nothing released before the cliff) and the
    // liquidity (5%), spread over three delegates: the wallet is the largest vote, the rest is 5% < 9.57%.
    const [second, third] = c.users as [HDAccount, HDAccount];
    await giveVotes(c, second, 20_000_000n * OPEN);
    await giveVotes(c, third, 10_000_000n * OPEN);
    const p = setValidatorMinimum(c, 1n);
    const id = await propose(c, c.investor, p);
    await afterVotingDelay(c, id);
    for (const who of [c.investor, c.deployer, second, third]) await castVote(c, who, id, Vote.For);
    await afterVotingPeriod(c, id);
    expect(await readGovernor<readonly bigint[]>(c, 'quorumProgress', [id])).toEqual([
      50_000_000n * OPEN,
      95_725_000n * OPEN,
    ]);
    expect(await state(c, id)).toBe(State.Defeated);
  });

  it('honest broad participation still passes: investors, team and a community holder vote for it', async () => {
    const c = chain();
    const [community] = c.users as [HDAccount];
    // A community member received 10% of the supply from the treasury, by an earlier decision.
    const tl = await c.impersonate(c.timelock.address);
    await send(c, tl, { ...c.token, functionName: 'transfer', args: [community.address, 100_000_000n * OPEN] });
    await send(c, community, { ...c.token, functionName: 'delegate', args: [community.address] });
    await warpTo(c, (await blockTime(c)) + 1n);
    const p = setValidatorMinimum(c, 25_000n * OPEN, 'Raise the validator minimum, broadly supported');
    const id = await propose(c, community, p);
    await afterVotingDelay(c, id);
    await castVote(c, c.investor, id, Vote.For);
    await castVote(c, c.team, id, Vote.For);
    await castVote(c, community, id, Vote.Abstain);
    await afterVotingPeriod(c, id);
    // Votable 48.29% -> quorum 12.07%; besides the investors' 18.29%, team 15% + community 10% take part.
    expect(await readGovernor<readonly bigint[]>(c, 'quorumProgress', [id])).toEqual([
      250_000_000n * OPEN,
      120_725_000n * OPEN,
    ]);
    expect(await state(c, id)).toBe(State.Succeeded);
    await queue(c, community, p);
    await warpTo(c, await readGovernor<bigint>(c, 'proposalEta', [id]));
    await execute(c, community, p);
    expect(
      await c.clients.public.readContract({
        ...c.staking,
        functionName: 'minimumStake',
        args: [stakingRoles.validator],
      }),
    ).toBe(25_000n * OPEN);
  });
});
