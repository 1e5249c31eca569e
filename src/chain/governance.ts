/**
 * Running a governance proposal through its whole life on a local anvil chain, where time can be advanced:
 * propose → (voting delay) → vote → (voting period) → queue → (timelock delay) → execute. On a real chain the
 * same calls are made by people over two weeks; this is for the demo, benchmarks and tests.
 */
import {
  type Abi,
  type AbiStateMutability,
  type Account,
  type Address,
  type ContractFunctionArgs,
  type ContractFunctionName,
  encodeFunctionData,
  type Hex,
  keccak256,
  stringToHex,
  type TransactionReceipt,
} from 'viem';
import { BaseError } from '../core/index.js';
import { type ChainClients, sendTx } from './clients.js';
import type { Deployment } from './deployment.js';
import { OpenTokenArtifact, TributaryGovernorArtifact, VotingVestingWalletArtifact } from './generated/index.js';

export interface ProposalAction {
  target: Address;
  data: Hex;
  value?: bigint;
}

export interface PassedProposal {
  proposalId: bigint;
  receipts: {
    propose: TransactionReceipt;
    votes: TransactionReceipt[];
    queue: TransactionReceipt;
    execute: TransactionReceipt;
  };
}

const VOTE_FOR = 1;

/** Moves the local chain's clock forward by `seconds` and mines a block. */
export async function advanceTime(clients: ChainClients, seconds: number): Promise<void> {
  const test = clients.test();
  await test.increaseTime({ seconds });
  await test.mine({ blocks: 1 });
}

export async function passProposal(input: {
  clients: ChainClients;
  deployment: Deployment;
  proposer: Account;
  voters: Account[];
  actions: ProposalAction[];
  description: string;
}): Promise<PassedProposal> {
  const { clients, deployment, proposer, voters, actions, description } = input;
  const gov = {
    address: deployment.contracts.Governor,
    abi: TributaryGovernorArtifact.abi,
    contract: 'Governor',
  } as const;
  const targets = actions.map((a) => a.target);
  const values = actions.map((a) => a.value ?? 0n);
  const calldatas = actions.map((a) => a.data);
  const descriptionHash = keccak256(stringToHex(description));

  const proposalId = await clients.public.readContract({
    ...gov,
    functionName: 'hashProposal',
    args: [targets, values, calldatas, descriptionHash],
  });
  const propose = await sendTx(clients, proposer, {
    ...gov,
    functionName: 'propose',
    args: [targets, values, calldatas, description],
  });
  await advanceTime(clients, Number(await clients.public.readContract({ ...gov, functionName: 'votingDelay' })) + 1);
  const votes: TransactionReceipt[] = [];
  for (const voter of voters)
    votes.push(await sendTx(clients, voter, { ...gov, functionName: 'castVote', args: [proposalId, VOTE_FOR] }));
  await advanceTime(clients, Number(await clients.public.readContract({ ...gov, functionName: 'votingPeriod' })) + 1);
  const state = await clients.public.readContract({ ...gov, functionName: 'state', args: [proposalId] });
  const SUCCEEDED = 4;
  if (state !== SUCCEEDED) {
    throw new BaseError(
      'CONFLICT',
      `Proposal ${proposalId} did not pass (state ${state}); not enough votes for quorum or majority`,
      {
        details: { proposalId: proposalId.toString(), state },
      },
    );
  }
  const queue = await sendTx(clients, proposer, {
    ...gov,
    functionName: 'queue',
    args: [targets, values, calldatas, descriptionHash],
  });
  const eta = await clients.public.readContract({ ...gov, functionName: 'proposalEta', args: [proposalId] });
  const now = (await clients.public.getBlock()).timestamp;
  await advanceTime(clients, Number(eta - now) + 1);
  const execute = await sendTx(clients, proposer, {
    ...gov,
    functionName: 'execute',
    args: [targets, values, calldatas, descriptionHash],
  });
  return { proposalId, receipts: { propose, votes, queue, execute } };
}

/**
 * Local development: lets the vesting beneficiaries vote with their locked tokens and the deployer with its
 * liquidity, so that governance can reach its 25% quorum. On a real chain each holder delegates for itself.
 */
export async function delegateVotesLocally(
  clients: ChainClients,
  deployment: Deployment,
  accounts: Account[],
): Promise<void> {
  const byAddress = new Map(accounts.map((a) => [a.address.toLowerCase(), a]));
  for (const line of deployment.allocations) {
    const holder = byAddress.get(line.beneficiary.toLowerCase());
    if (!holder) continue;
    if (line.vested) {
      await sendTx(clients, holder, {
        address: line.recipient,
        abi: VotingVestingWalletArtifact.abi,
        contract: 'VotingVestingWallet',
        functionName: 'delegate',
        args: [deployment.contracts.OpenToken, holder.address],
      });
    } else if (line.recipient === holder.address) {
      await sendTx(clients, holder, {
        address: deployment.contracts.OpenToken,
        abi: OpenTokenArtifact.abi,
        contract: 'OpenToken',
        functionName: 'delegate',
        args: [holder.address],
      });
    }
  }
  // Votes count from the next timestamp on (Governor reads them at clock() - 1).
  await advanceTime(clients, 1);
}

/** Calldata of `functionName(args)` on a contract of `abi`, e.g. for a proposal's action. */
export function encodeCall<const TAbi extends Abi, TName extends ContractFunctionName<TAbi>>(
  abi: TAbi,
  functionName: TName,
  args: ContractFunctionArgs<TAbi, AbiStateMutability, TName> & readonly unknown[],
): Hex {
  // The name and arguments were checked against `TAbi` at the call; encoding needs only their values.
  const wide: Abi = abi;
  const name: string = functionName;
  return encodeFunctionData({ abi: wide, functionName: name, args });
}
