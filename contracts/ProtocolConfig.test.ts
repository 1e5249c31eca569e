/**
 * ProtocolConfig: the fee and challenge parameters of payable inference, owned by the timelock. Constructor
 * validation (a fresh instance per case), owner-only setters (refused to everyone else, accepted from the
 * impersonated timelock with their events), the bounds that keep governance from setting loose parameters (a flat
 * fee nobody would pay, a zero or unpayable challenge bond, a window too short to check an export, a resolution
 * period outside 1..60 days) and one full governance proposal that changes the split.
 */
import { type Account, type Address, type HDAccount, parseEventLogs, type TransactionReceipt, zeroAddress } from 'viem';
import { describe, expect, it } from 'vitest';
import { deployContract, encodeCall, OPEN, ProtocolConfigArtifact, passProposal } from '../src/chain/index.js';
import { expectRevert, send, type TestChain, useTestChain } from '../test/fixtures/chain.js';

const chain = useTestChain();

const HOUR = 3_600n;
const DAY = 86_400n;
const MAX_WINDOW = 30n * DAY;
const MIN_WINDOW = HOUR;
const MAX_FLAT = 10n * OPEN;
const MAX_BOND = 100_000n * OPEN;
const MIN_RESOLUTION = DAY;
const MAX_RESOLUTION = 60n * DAY;

interface Params {
  platformFeeBps: number;
  platformFeeFlat: bigint;
  ownerShareBps: number;
  stakerShareBps: number;
  contributorShareBps: number;
  challengeWindow: bigint;
  challengeBond: bigint;
  platformTreasury: Address;
  resolutionPeriod: bigint;
}

/** The deployment's defaults (src/chain/parameters.ts), with the timelock as treasury. */
const defaults = (c: TestChain): Params => ({
  platformFeeBps: 500,
  platformFeeFlat: 0n,
  ownerShareBps: 4_000,
  stakerShareBps: 1_000,
  contributorShareBps: 5_000,
  challengeWindow: DAY,
  challengeBond: 1_000n * OPEN,
  platformTreasury: c.timelock.address,
  resolutionPeriod: 21n * DAY,
});

const config = (c: TestChain) =>
  ({
    address: c.deployment.contracts.ProtocolConfig,
    abi: ProtocolConfigArtifact.abi,
    contract: 'ProtocolConfig',
  }) as const;

const readParams = async (c: TestChain): Promise<Params> => ({
  ...(await c.clients.public.readContract({ ...config(c), functionName: 'params' })),
});

const deployConfig = (c: TestChain, p: Params, owner: Address = c.timelock.address) =>
  deployContract(c.clients, c.deployer, ProtocolConfigArtifact, [owner, p]);

const events = (receipt: TransactionReceipt) =>
  parseEventLogs({ abi: ProtocolConfigArtifact.abi, logs: receipt.logs }).map((e) => ({
    eventName: e.eventName,
    args: e.args,
  }));

describe('ProtocolConfig: deployment', () => {
  it('is owned by the timelock and holds the default parameters', async () => {
    const c = chain();
    const read = <T>(functionName: string) =>
      c.clients.public.readContract({ ...config(c), functionName, args: [] } as never) as Promise<T>;
    expect(await read<Address>('owner')).toBe(c.timelock.address);
    expect(await readParams(c)).toEqual(defaults(c));
    expect(await read<number>('platformFeeBps')).toBe(500);
    expect(await read<bigint>('platformFeeFlat')).toBe(0n);
    expect(await read<number>('ownerShareBps')).toBe(4_000);
    expect(await read<number>('stakerShareBps')).toBe(1_000);
    expect(await read<number>('contributorShareBps')).toBe(5_000);
    expect(await read<bigint>('challengeWindow')).toBe(DAY);
    expect(await read<bigint>('challengeBond')).toBe(1_000n * OPEN);
    expect(await read<Address>('platformTreasury')).toBe(c.timelock.address);
    expect(await read<bigint>('resolutionPeriod')).toBe(21n * DAY);
    expect(await read<bigint>('MAX_CHALLENGE_WINDOW')).toBe(MAX_WINDOW);
    expect(await read<bigint>('MIN_CHALLENGE_WINDOW')).toBe(MIN_WINDOW);
    expect(await read<bigint>('MAX_PLATFORM_FEE_FLAT')).toBe(MAX_FLAT);
    expect(await read<bigint>('MAX_CHALLENGE_BOND')).toBe(MAX_BOND);
    expect(await read<bigint>('MIN_RESOLUTION_PERIOD')).toBe(MIN_RESOLUTION);
    expect(await read<bigint>('MAX_RESOLUTION_PERIOD')).toBe(MAX_RESOLUTION);
  });

  it('emits every parameter event from the constructor', async () => {
    const c = chain();
    const { receipt } = await deployConfig(c, defaults(c));
    expect(events(receipt)).toEqual([
      { eventName: 'OwnershipTransferred', args: { previousOwner: zeroAddress, newOwner: c.timelock.address } },
      { eventName: 'PlatformFeeSet', args: { bps: 500, flat: 0n } },
      { eventName: 'SplitSet', args: { ownerBps: 4_000, stakerBps: 1_000, contributorBps: 5_000 } },
      { eventName: 'ChallengeTermsSet', args: { window: DAY, bond: 1_000n * OPEN } },
      { eventName: 'PlatformTreasurySet', args: { treasury: c.timelock.address } },
      { eventName: 'ResolutionPeriodSet', args: { period: 21n * DAY } },
    ]);
  });
});

describe('ProtocolConfig: constructor validation', () => {
  it('refuses a split that does not sum to exactly 10,000 bps, naming the sum', async () => {
    const c = chain();
    const d = defaults(c);
    const split = (ownerShareBps: number, stakerShareBps: number, contributorShareBps: number) =>
      deployConfig(c, { ...d, ownerShareBps, stakerShareBps, contributorShareBps });
    await expectRevert(split(4_000, 1_000, 4_999), 'InvalidSplit', [9_999n]);
    await expectRevert(split(4_000, 1_000, 5_001), 'InvalidSplit', [10_001n]);
    await expectRevert(split(0, 0, 0), 'InvalidSplit', [0n]);
    // The sum is taken in 256 bits: three maximal uint16 values do not wrap around to something valid.
    await expectRevert(split(65_535, 65_535, 65_535), 'InvalidSplit', [196_605n]);
    const err = await expectRevert(split(5_000, 5_000, 1), 'InvalidSplit');
    expect(err.message).toBe('ProtocolConfig.constructor reverted with InvalidSplit("10001")');
    // Edges that are valid: everything to one party.
    await deployConfig(c, { ...d, ownerShareBps: 10_000, stakerShareBps: 0, contributorShareBps: 0 });
    await deployConfig(c, { ...d, ownerShareBps: 0, stakerShareBps: 0, contributorShareBps: 10_000 });
  });

  it('refuses a platform fee above 10,000 bps', async () => {
    const c = chain();
    const d = defaults(c);
    await expectRevert(deployConfig(c, { ...d, platformFeeBps: 10_001 }), 'InvalidBps', [10_001n]);
    await expectRevert(deployConfig(c, { ...d, platformFeeBps: 65_535 }), 'InvalidBps', [65_535n]);
    await deployConfig(c, { ...d, platformFeeBps: 10_000 });
    await deployConfig(c, { ...d, platformFeeBps: 0, platformFeeFlat: MAX_FLAT });
  });

  it('refuses a flat platform fee above 10 OPEN (PlatformFeeFlatTooHigh)', async () => {
    const c = chain();
    const d = defaults(c);
    for (const platformFeeFlat of [MAX_FLAT + 1n, 10n ** 30n])
      await expectRevert(deployConfig(c, { ...d, platformFeeFlat }), 'PlatformFeeFlatTooHigh', [
        platformFeeFlat,
        MAX_FLAT,
      ]);
  });

  it('refuses a challenge window below 1 hour or above 30 days; accepts exactly 1 hour and 30 days', async () => {
    const c = chain();
    const d = defaults(c);
    for (const challengeWindow of [0n, 1n, MIN_WINDOW - 1n])
      await expectRevert(deployConfig(c, { ...d, challengeWindow }), 'InvalidChallengeWindow', [challengeWindow]);
    await expectRevert(deployConfig(c, { ...d, challengeWindow: MAX_WINDOW + 1n }), 'InvalidChallengeWindow', [
      MAX_WINDOW + 1n,
    ]);
    await expectRevert(deployConfig(c, { ...d, challengeWindow: 2n ** 64n - 1n }), 'InvalidChallengeWindow', [
      2n ** 64n - 1n,
    ]);
    for (const challengeWindow of [MIN_WINDOW, MAX_WINDOW]) {
      const { address } = await deployConfig(c, { ...d, challengeWindow, challengeBond: 1n });
      const p = await c.clients.public.readContract({
        address,
        abi: ProtocolConfigArtifact.abi,
        functionName: 'params',
      });
      expect(p.challengeWindow).toBe(challengeWindow);
      expect(p.challengeBond).toBe(1n);
    }
  });

  it('refuses a zero challenge bond and one above 100,000 OPEN (InvalidChallengeBond)', async () => {
    const c = chain();
    const d = defaults(c);
    for (const challengeBond of [0n, MAX_BOND + 1n, 2n ** 256n - 1n])
      await expectRevert(deployConfig(c, { ...d, challengeBond }), 'InvalidChallengeBond', [challengeBond]);
    await deployConfig(c, { ...d, challengeBond: MAX_BOND });
  });

  it('refuses a resolution period outside 1 day .. 60 days (InvalidResolutionPeriod)', async () => {
    const c = chain();
    const d = defaults(c);
    for (const resolutionPeriod of [0n, MIN_RESOLUTION - 1n, MAX_RESOLUTION + 1n, 2n ** 64n - 1n])
      await expectRevert(deployConfig(c, { ...d, resolutionPeriod }), 'InvalidResolutionPeriod', [resolutionPeriod]);
    for (const resolutionPeriod of [MIN_RESOLUTION, MAX_RESOLUTION]) {
      const { address } = await deployConfig(c, { ...d, resolutionPeriod });
      expect(
        await c.clients.public.readContract({
          address,
          abi: ProtocolConfigArtifact.abi,
          functionName: 'resolutionPeriod',
        }),
      ).toBe(resolutionPeriod);
    }
  });

  it('refuses a zero treasury and a zero owner', async () => {
    const c = chain();
    const d = defaults(c);
    await expectRevert(deployConfig(c, { ...d, platformTreasury: zeroAddress }), 'ZeroAddress', []);
    await expectRevert(deployConfig(c, d, zeroAddress), 'OwnableInvalidOwner', [zeroAddress]);
  });
});

describe('ProtocolConfig: setters', () => {
  type Setter = (c: TestChain, who: Account | Address) => Promise<TransactionReceipt>;
  const setters = {
    setPlatformFee: (c, who) => send(c, who, { ...config(c), functionName: 'setPlatformFee', args: [250, 10n] }),
    setSplit: (c, who) => send(c, who, { ...config(c), functionName: 'setSplit', args: [3_000, 2_000, 5_000] }),
    setChallengeTerms: (c, who) =>
      send(c, who, { ...config(c), functionName: 'setChallengeTerms', args: [2n * DAY, 5n * OPEN] }),
    setPlatformTreasury: (c, who) =>
      send(c, who, { ...config(c), functionName: 'setPlatformTreasury', args: [c.deployer.address] }),
    setResolutionPeriod: (c, who) =>
      send(c, who, { ...config(c), functionName: 'setResolutionPeriod', args: [7n * DAY] }),
    setUnattributedRecipient: (c, who) =>
      send(c, who, { ...config(c), functionName: 'setUnattributedRecipient', args: [c.deployer.address] }),
    transferOwnership: (c, who) =>
      send(c, who, { ...config(c), functionName: 'transferOwnership', args: [c.deployer.address] }),
    renounceOwnership: (c, who) => send(c, who, { ...config(c), functionName: 'renounceOwnership', args: [] }),
  } satisfies Record<string, Setter>;

  it('refuses every setter to anyone but the owner (the deployer included)', async () => {
    const c = chain();
    const [user] = c.users as [HDAccount];
    const before = await readParams(c);
    for (const who of [c.deployer, user, c.investor]) {
      for (const [name, set] of Object.entries(setters)) {
        const err = await expectRevert(set(c, who), 'OwnableUnauthorizedAccount', [who.address]);
        expect(err.message).toBe(`ProtocolConfig.${name} reverted with OwnableUnauthorizedAccount("${who.address}")`);
      }
    }
    // The governor proposes but does not own: only the timelock does.
    const governor = await c.impersonate(c.governor.address);
    for (const set of Object.values(setters))
      await expectRevert(set(c, governor), 'OwnableUnauthorizedAccount', [governor]);
    expect(await readParams(c)).toEqual(before);
  });

  it('lets the timelock set the platform fee, with PlatformFeeSet', async () => {
    const c = chain();
    const timelock = await c.impersonate(c.timelock.address);
    const receipt = await send(c, timelock, {
      ...config(c),
      functionName: 'setPlatformFee',
      args: [1_234, 7n * 10n ** 15n],
    });
    expect(events(receipt)).toEqual([{ eventName: 'PlatformFeeSet', args: { bps: 1_234, flat: 7n * 10n ** 15n } }]);
    expect(await readParams(c)).toEqual({ ...defaults(c), platformFeeBps: 1_234, platformFeeFlat: 7n * 10n ** 15n });
    await send(c, timelock, { ...config(c), functionName: 'setPlatformFee', args: [10_000, 0n] });
    await expectRevert(
      send(c, timelock, { ...config(c), functionName: 'setPlatformFee', args: [10_001, 0n] }),
      'InvalidBps',
      [10_001n],
    );
    await expectRevert(
      send(c, timelock, { ...config(c), functionName: 'setPlatformFee', args: [0, MAX_FLAT + 1n] }),
      'PlatformFeeFlatTooHigh',
      [MAX_FLAT + 1n, MAX_FLAT],
    );
    expect((await readParams(c)).platformFeeBps).toBe(10_000);
    await send(c, timelock, { ...config(c), functionName: 'setPlatformFee', args: [0, MAX_FLAT] });
    expect(await readParams(c)).toMatchObject({ platformFeeBps: 0, platformFeeFlat: MAX_FLAT });
  });

  it('lets the timelock set the split, with SplitSet, and refuses a bad sum', async () => {
    const c = chain();
    const timelock = await c.impersonate(c.timelock.address);
    const receipt = await send(c, timelock, { ...config(c), functionName: 'setSplit', args: [2_500, 2_500, 5_000] });
    expect(events(receipt)).toEqual([
      { eventName: 'SplitSet', args: { ownerBps: 2_500, stakerBps: 2_500, contributorBps: 5_000 } },
    ]);
    await expectRevert(
      send(c, timelock, { ...config(c), functionName: 'setSplit', args: [2_500, 2_500, 4_999] }),
      'InvalidSplit',
      [9_999n],
    );
    expect(await readParams(c)).toEqual({
      ...defaults(c),
      ownerShareBps: 2_500,
      stakerShareBps: 2_500,
      contributorShareBps: 5_000,
    });
  });

  it('lets the timelock set the challenge terms, with ChallengeTermsSet, within 1 hour .. 30 days', async () => {
    const c = chain();
    const timelock = await c.impersonate(c.timelock.address);
    const set = (window: bigint, bond: bigint) =>
      send(c, timelock, { ...config(c), functionName: 'setChallengeTerms', args: [window, bond] });
    const receipt = await set(3n * DAY, 250n * OPEN);
    expect(events(receipt)).toEqual([
      { eventName: 'ChallengeTermsSet', args: { window: 3n * DAY, bond: 250n * OPEN } },
    ]);
    expect(await readParams(c)).toEqual({ ...defaults(c), challengeWindow: 3n * DAY, challengeBond: 250n * OPEN });
    await expectRevert(set(0n, 1n), 'InvalidChallengeWindow', [0n]);
    await expectRevert(set(MIN_WINDOW - 1n, 1n), 'InvalidChallengeWindow', [MIN_WINDOW - 1n]);
    await expectRevert(set(MAX_WINDOW + 1n, 1n), 'InvalidChallengeWindow', [MAX_WINDOW + 1n]);
    await expectRevert(set(DAY, 0n), 'InvalidChallengeBond', [0n]);
    await expectRevert(set(DAY, MAX_BOND + 1n), 'InvalidChallengeBond', [MAX_BOND + 1n]);
    await set(MAX_WINDOW, MAX_BOND);
    await set(MIN_WINDOW, 1n);
    expect(await readParams(c)).toEqual({ ...defaults(c), challengeWindow: MIN_WINDOW, challengeBond: 1n });
  });

  it('lets the timelock set the resolution period, with ResolutionPeriodSet, within 1 .. 60 days', async () => {
    const c = chain();
    const timelock = await c.impersonate(c.timelock.address);
    const set = (period: bigint) =>
      send(c, timelock, { ...config(c), functionName: 'setResolutionPeriod', args: [period] });
    const receipt = await set(7n * DAY);
    expect(events(receipt)).toEqual([{ eventName: 'ResolutionPeriodSet', args: { period: 7n * DAY } }]);
    expect(await readParams(c)).toEqual({ ...defaults(c), resolutionPeriod: 7n * DAY });
    for (const period of [0n, MIN_RESOLUTION - 1n, MAX_RESOLUTION + 1n])
      await expectRevert(set(period), 'InvalidResolutionPeriod', [period]);
    await set(MIN_RESOLUTION);
    await set(MAX_RESOLUTION);
    expect(await readParams(c)).toEqual({ ...defaults(c), resolutionPeriod: MAX_RESOLUTION });
  });

  it('lets the timelock set the treasury, with PlatformTreasurySet, never to zero', async () => {
    const c = chain();
    const [user] = c.users as [HDAccount];
    const timelock = await c.impersonate(c.timelock.address);
    const receipt = await send(c, timelock, {
      ...config(c),
      functionName: 'setPlatformTreasury',
      args: [user.address],
    });
    expect(events(receipt)).toEqual([{ eventName: 'PlatformTreasurySet', args: { treasury: user.address } }]);
    await expectRevert(
      send(c, timelock, { ...config(c), functionName: 'setPlatformTreasury', args: [zeroAddress] }),
      'ZeroAddress',
      [],
    );
    expect(await readParams(c)).toEqual({ ...defaults(c), platformTreasury: user.address });
  });

  it('sends unattributed shares to the platform treasury unless governance names another recipient (UnattributedRecipientSet), never to itself', async () => {
    const c = chain();
    const [user, other] = c.users as [HDAccount, HDAccount];
    const timelock = await c.impersonate(c.timelock.address);
    const recipient = () => c.clients.public.readContract({ ...config(c), functionName: 'unattributedRecipient' });
    const set = (to: Address) =>
      send(c, timelock, { ...config(c), functionName: 'setUnattributedRecipient', args: [to] });
    // By default it follows the platform treasury, wherever governance moves it.
    expect(await recipient()).toBe(c.timelock.address);
    await send(c, timelock, { ...config(c), functionName: 'setPlatformTreasury', args: [user.address] });
    expect(await recipient()).toBe(user.address);
    const receipt = await set(other.address);
    expect(events(receipt)).toEqual([{ eventName: 'UnattributedRecipientSet', args: { recipient: other.address } }]);
    expect(await recipient()).toBe(other.address);
    await expectRevert(set(config(c).address), 'InvalidUnattributedRecipient', [config(c).address]);
    expect(await recipient()).toBe(other.address);
    // Zero hands it back to the platform treasury.
    await set(zeroAddress);
    expect(await recipient()).toBe(user.address);
  });

  it('hands ownership on only through the owner; the old owner is then refused', async () => {
    const c = chain();
    const [user] = c.users as [HDAccount];
    const timelock = await c.impersonate(c.timelock.address);
    await send(c, timelock, { ...config(c), functionName: 'transferOwnership', args: [user.address] });
    expect(await c.clients.public.readContract({ ...config(c), functionName: 'owner' })).toBe(user.address);
    await expectRevert(setters.setSplit(c, timelock), 'OwnableUnauthorizedAccount', [timelock]);
    await send(c, user, { ...config(c), functionName: 'setSplit', args: [1, 1, 9_998] });
    expect((await readParams(c)).contributorShareBps).toBe(9_998);
  });
});

describe('attack 8: governance cannot set loose parameters', () => {
  it('attack 8: loose parameters are refused', async () => {
    const c = chain();
    const timelock = await c.impersonate(c.timelock.address);
    const before = await readParams(c);
    const unbondingBefore = await c.clients.public.readContract({ ...c.staking, functionName: 'unbondingPeriod' });
    // A flat fee so high that no request is worth paying for.
    await expectRevert(
      send(c, timelock, { ...config(c), functionName: 'setPlatformFee', args: [before.platformFeeBps, MAX_FLAT + 1n] }),
      'PlatformFeeFlatTooHigh',
      [MAX_FLAT + 1n, MAX_FLAT],
    );
    const terms = (window: bigint, bond: bigint) =>
      send(c, timelock, { ...config(c), functionName: 'setChallengeTerms', args: [window, bond] });
    // A zero bond makes challenging free (griefing); a bond above 100,000 OPEN makes it unaffordable.
    await expectRevert(terms(DAY, 0n), 'InvalidChallengeBond', [0n]);
    await expectRevert(terms(DAY, MAX_BOND + 1n), 'InvalidChallengeBond', [MAX_BOND + 1n]);
    // A window below an hour leaves watchers no time to fetch an export and recompute it.
    await expectRevert(terms(MIN_WINDOW - 1n, OPEN), 'InvalidChallengeWindow', [MIN_WINDOW - 1n]);
    await expectRevert(terms(1n, OPEN), 'InvalidChallengeWindow', [1n]);
    // Governance needs at least a day to resolve a challenge; a dispute must not hang for months.
    const resolution = (period: bigint) =>
      send(c, timelock, { ...config(c), functionName: 'setResolutionPeriod', args: [period] });
    await expectRevert(resolution(MIN_RESOLUTION - 1n), 'InvalidResolutionPeriod', [MIN_RESOLUTION - 1n]);
    await expectRevert(resolution(MAX_RESOLUTION + 1n), 'InvalidResolutionPeriod', [MAX_RESOLUTION + 1n]);
    // Unbonding shorter than a day lets a staker leave before a slash decided by vote can find the stake.
    for (const period of [0n, DAY - 1n])
      await expectRevert(
        send(c, timelock, { ...c.staking, functionName: 'setUnbondingPeriod', args: [period] }),
        'UnbondingPeriodTooShort',
        [period, DAY],
      );
    expect(await readParams(c)).toEqual(before);
    expect(await c.clients.public.readContract({ ...c.staking, functionName: 'unbondingPeriod' })).toBe(
      unbondingBefore,
    );
  });
});

describe('ProtocolConfig: governance', () => {
  it('changes the split through a full proposal (propose, vote, queue, execute by the timelock)', async () => {
    const c = chain();
    const { receipts } = await passProposal({
      clients: c.clients,
      deployment: c.deployment,
      proposer: c.investor,
      voters: [c.investor, c.team],
      actions: [
        {
          target: config(c).address,
          data: encodeCall(ProtocolConfigArtifact.abi, 'setSplit', [3_000, 1_500, 5_500]),
        },
        {
          target: config(c).address,
          data: encodeCall(ProtocolConfigArtifact.abi, 'setChallengeTerms', [2n * DAY, 2_000n * OPEN]),
        },
      ],
      description: 'Raise the contributor share to 55% and lengthen the challenge window',
    });
    const fromConfig = receipts.execute.logs.filter((l) => l.address.toLowerCase() === config(c).address.toLowerCase());
    expect(events({ ...receipts.execute, logs: fromConfig })).toEqual([
      { eventName: 'SplitSet', args: { ownerBps: 3_000, stakerBps: 1_500, contributorBps: 5_500 } },
      { eventName: 'ChallengeTermsSet', args: { window: 2n * DAY, bond: 2_000n * OPEN } },
    ]);
    expect(await readParams(c)).toEqual({
      ...defaults(c),
      ownerShareBps: 3_000,
      stakerShareBps: 1_500,
      contributorShareBps: 5_500,
      challengeWindow: 2n * DAY,
      challengeBond: 2_000n * OPEN,
    });
  });

  it('executes nothing when the proposed split is invalid: the whole proposal reverts at execution', async () => {
    const c = chain();
    const err = await passProposal({
      clients: c.clients,
      deployment: c.deployment,
      proposer: c.investor,
      voters: [c.investor, c.team],
      actions: [
        { target: config(c).address, data: encodeCall(ProtocolConfigArtifact.abi, 'setSplit', [3_000, 1_500, 5_000]) },
      ],
      description: 'A split that sums to 95%',
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeDefined();
    expect((err as { details?: { error?: string } }).details?.error).toBe('InvalidSplit');
    expect(await readParams(c)).toEqual(defaults(c));
  });
});
