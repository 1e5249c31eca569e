/**
 * Deploys the protocol in dependency order and wires its roles, ending with the deployer holding no power:
 * the timelock (driven by the governor) administers staking and owns the treasury.
 */
import { type Account, type Address, keccak256, stringToHex, toHex, zeroAddress } from 'viem';
import { type Logger, silentLogger } from '../core/index.js';
import { type ChainClients, deployContract, sendTx } from './clients.js';
import { type ContractName, type Deployment, deploymentSchema } from './deployment.js';
import {
  DataNetRegistryArtifact,
  InferenceEscrowArtifact,
  ModelRegistryArtifact,
  OpenTokenArtifact,
  ProtocolConfigArtifact,
  RewardDistributorArtifact,
  StakingArtifact,
  TimelockArtifact,
  TributaryGovernorArtifact,
  VotingVestingWalletArtifact,
} from './generated/index.js';
import { checkUnbondingCoversGovernance, type DeployParameters, withAmounts } from './parameters.js';

export const roleIds = {
  DEFAULT_ADMIN: '0x0000000000000000000000000000000000000000000000000000000000000000',
  SLASHER: keccak256(stringToHex('SLASHER_ROLE')),
  LOCKER: keccak256(stringToHex('LOCKER_ROLE')),
  FEE_SOURCE: keccak256(stringToHex('FEE_SOURCE_ROLE')),
  RESOLVER: keccak256(stringToHex('RESOLVER_ROLE')),
  PROPOSER: keccak256(stringToHex('PROPOSER_ROLE')),
  CANCELLER: keccak256(stringToHex('CANCELLER_ROLE')),
  EXECUTOR: keccak256(stringToHex('EXECUTOR_ROLE')),
} as const;

export interface DeployInput {
  clients: ChainClients;
  deployer: Account;
  parameters: DeployParameters;
  log?: Logger;
}

export async function deployProtocol({
  clients,
  deployer,
  parameters,
  log = silentLogger(),
}: DeployInput): Promise<Deployment> {
  const allocations = withAmounts(parameters.allocations);
  checkUnbondingCoversGovernance(parameters);
  const startBlock = await clients.public.getBlock();
  const now = Number(startBlock.timestamp);
  const step = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const result = await fn();
    log.info({ step: what }, 'deployed');
    return result;
  };

  // 1. Timelock, with the deployer as temporary admin so it can wire the governor in.
  const timelock = await step('Timelock', () =>
    deployContract(clients, deployer, TimelockArtifact, [
      BigInt(parameters.timelockDelaySeconds),
      [],
      [zeroAddress],
      deployer.address,
    ]),
  );

  // 2. Vesting wallets for vested allocations; everything else goes straight to its recipient.
  const lines: { label: string; recipient: Address; beneficiary: Address; amount: bigint; vested: boolean }[] = [];
  for (const a of allocations) {
    const beneficiary = a.recipient === 'treasury' ? timelock.address : a.recipient;
    const line = { label: a.label, recipient: beneficiary, beneficiary, amount: a.amount, vested: false };
    const vesting = a.vesting;
    if (vesting) {
      const wallet = await step(`VotingVestingWallet(${a.label})`, () =>
        deployContract(clients, deployer, VotingVestingWalletArtifact, [
          beneficiary,
          BigInt(now + vesting.cliffSeconds),
          BigInt(vesting.durationSeconds),
        ]),
      );
      line.recipient = wallet.address;
      line.vested = true;
    }
    lines.push(line);
  }

  // 3. OPEN: the whole supply, minted once to the allocation list; it tracks the treasury's (the timelock's)
  // balance, which the governor's quorum leaves out of the supply that can vote.
  const token = await step('OpenToken', () =>
    deployContract(clients, deployer, OpenTokenArtifact, [
      lines.map((l) => ({ recipient: l.recipient, amount: l.amount, label: toHex(l.label, { size: 32 }) })),
      timelock.address,
    ]),
  );

  // 4. Governor on OPEN votes, executing through the timelock.
  const g = parameters.governor;
  const governor = await step('Governor', () =>
    deployContract(clients, deployer, TributaryGovernorArtifact, [
      token.address,
      timelock.address,
      g.votingDelaySeconds,
      g.votingPeriodSeconds,
      g.proposalThresholdWei,
      BigInt(g.quorumPercent),
    ]),
  );

  // 5. Staking: treasury = timelock; the deployer administers it only until the roles are wired.
  const s = parameters.staking;
  const minimums = [s.minimumStakeWei.validator, s.minimumStakeWei.servingNode, s.minimumStakeWei.agent] as const;
  const staking = await step('Staking', () =>
    deployContract(clients, deployer, StakingArtifact, [
      token.address,
      timelock.address,
      deployer.address,
      BigInt(s.unbondingPeriodSeconds),
      minimums,
    ]),
  );

  // 6. The DataNet and model registries (no privileged roles: each DataNet and model has its own owner).
  const dataNetRegistry = await step('DataNetRegistry', () =>
    deployContract(clients, deployer, DataNetRegistryArtifact, [token.address]),
  );

  const modelRegistry = await step('ModelRegistry', () =>
    deployContract(clients, deployer, ModelRegistryArtifact, [dataNetRegistry.address]),
  );

  // 7. Payable inference: parameters (owned by the timelock), the distributor (slashes attestors of wrong epochs,
  // governance resolves challenges) and the escrow that feeds it.
  const st8 = parameters.settlement;
  const protocolConfig = await step('ProtocolConfig', () =>
    deployContract(clients, deployer, ProtocolConfigArtifact, [
      timelock.address,
      {
        platformFeeBps: st8.platformFeeBps,
        platformFeeFlat: st8.platformFeeFlatWei,
        ownerShareBps: st8.ownerShareBps,
        stakerShareBps: st8.stakerShareBps,
        contributorShareBps: st8.contributorShareBps,
        challengeWindow: BigInt(st8.challengeWindowSeconds),
        challengeBond: st8.challengeBondWei,
        platformTreasury: timelock.address,
        resolutionPeriod: BigInt(st8.resolutionPeriodSeconds),
      },
    ]),
  );
  const distributor = await step('RewardDistributor', () =>
    deployContract(clients, deployer, RewardDistributorArtifact, [
      token.address,
      staking.address,
      protocolConfig.address,
      deployer.address,
    ]),
  );
  const escrow = await step('InferenceEscrow', () =>
    deployContract(clients, deployer, InferenceEscrowArtifact, [
      token.address,
      distributor.address,
      BigInt(st8.settlementGraceSeconds),
    ]),
  );

  // 8. Roles: the governor proposes and cancels on the timelock; the timelock slashes and administers staking;
  // then the deployer gives up both admin roles.
  const tl = { address: timelock.address, abi: TimelockArtifact.abi, contract: 'Timelock' } as const;
  const st = { address: staking.address, abi: StakingArtifact.abi, contract: 'Staking' } as const;
  await sendTx(clients, deployer, { ...tl, functionName: 'grantRole', args: [roleIds.PROPOSER, governor.address] });
  await sendTx(clients, deployer, { ...tl, functionName: 'grantRole', args: [roleIds.CANCELLER, governor.address] });
  await sendTx(clients, deployer, { ...st, functionName: 'grantRole', args: [roleIds.SLASHER, timelock.address] });
  await sendTx(clients, deployer, { ...st, functionName: 'grantRole', args: [roleIds.SLASHER, distributor.address] });
  await sendTx(clients, deployer, { ...st, functionName: 'grantRole', args: [roleIds.LOCKER, distributor.address] });
  const rd = {
    address: distributor.address,
    abi: RewardDistributorArtifact.abi,
    contract: 'RewardDistributor',
  } as const;
  await sendTx(clients, deployer, { ...rd, functionName: 'grantRole', args: [roleIds.FEE_SOURCE, escrow.address] });
  await sendTx(clients, deployer, { ...rd, functionName: 'grantRole', args: [roleIds.RESOLVER, timelock.address] });
  await sendTx(clients, deployer, {
    ...rd,
    functionName: 'grantRole',
    args: [roleIds.DEFAULT_ADMIN, timelock.address],
  });
  await sendTx(clients, deployer, {
    ...rd,
    functionName: 'renounceRole',
    args: [roleIds.DEFAULT_ADMIN, deployer.address],
  });
  await sendTx(clients, deployer, {
    ...st,
    functionName: 'grantRole',
    args: [roleIds.DEFAULT_ADMIN, timelock.address],
  });
  await sendTx(clients, deployer, {
    ...st,
    functionName: 'renounceRole',
    args: [roleIds.DEFAULT_ADMIN, deployer.address],
  });
  await sendTx(clients, deployer, {
    ...tl,
    functionName: 'renounceRole',
    args: [roleIds.DEFAULT_ADMIN, deployer.address],
  });

  const contracts: Record<ContractName, Address> = {
    OpenToken: token.address,
    Staking: staking.address,
    Governor: governor.address,
    Timelock: timelock.address,
    DataNetRegistry: dataNetRegistry.address,
    ModelRegistry: modelRegistry.address,
    ProtocolConfig: protocolConfig.address,
    RewardDistributor: distributor.address,
    InferenceEscrow: escrow.address,
  };
  const firstBlock = await clients.public.getBlock({ blockNumber: timelock.receipt.blockNumber });
  return {
    version: 1,
    chainId: clients.chain.id,
    deployer: deployer.address,
    block: Number(firstBlock.number),
    blockHash: firstBlock.hash,
    deployedAt: new Date(Number(firstBlock.timestamp) * 1000).toISOString(),
    contracts,
    allocations: lines.map((l) => ({ ...l, amount: l.amount.toString() })),
    parameters: deploymentSchema.shape.parameters.parse(
      JSON.parse(JSON.stringify(parameters, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))),
    ),
  };
}
