/**
 * Gas of every user-facing ledger operation on a fresh local chain, measured from real transaction receipts.
 * The baseline in the same run is a plain ETH transfer (21,000 gas by definition of the EVM).
 */
import type { TransactionReceipt } from 'viem';
import {
  advanceTime,
  connectChain,
  defaultDeployParameters,
  delegateVotesLocally,
  deployProtocol,
  devAccount,
  devRoles,
  encodeCall,
  OPEN,
  OpenTokenArtifact,
  passProposal,
  roleIds,
  StakingArtifact,
  sendTx,
  signPermit,
  stakingRoles,
  startAnvil,
} from '../src/chain/index.js';
import { keccak256 } from '../src/core/index.js';

const line = (op: string, receipt: TransactionReceipt | bigint, extra: Record<string, unknown> = {}) => {
  const gas = typeof receipt === 'bigint' ? receipt : receipt.gasUsed;
  process.stdout.write(`${JSON.stringify({ suite: 'gas', op, gas: Number(gas), ...extra })}\n`);
};

export async function run(): Promise<void> {
  const anvil = await startAnvil();
  try {
    const clients = await connectChain(anvil.rpcUrl);
    const deployer = devAccount(devRoles.deployer);
    const investor = devAccount(devRoles.investorBeneficiary);
    const team = devAccount(devRoles.teamBeneficiary);
    const [alice, bob, slasher] = [3, 4, 5].map(devAccount) as [
      ReturnType<typeof devAccount>,
      ReturnType<typeof devAccount>,
      ReturnType<typeof devAccount>,
    ];
    const parameters = defaultDeployParameters({
      deployer: deployer.address,
      investors: investor.address,
      team: team.address,
    });
    const deployment = await deployProtocol({ clients, deployer, parameters });
    await delegateVotesLocally(clients, deployment, [deployer, investor, team]);
    const token = {
      address: deployment.contracts.OpenToken,
      abi: OpenTokenArtifact.abi,
      contract: 'OpenToken',
    } as const;
    const staking = { address: deployment.contracts.Staking, abi: StakingArtifact.abi, contract: 'Staking' } as const;

    // Baseline: the cheapest possible transaction.
    const ethHash = await clients
      .wallet(alice)
      .sendTransaction({ account: alice, chain: clients.chain, to: bob.address, value: 1n });
    line('ethTransfer', await clients.public.waitForTransactionReceipt({ hash: ethHash }), { baseline: true });

    // Token.
    line(
      'transfer',
      await sendTx(clients, deployer, { ...token, functionName: 'transfer', args: [alice.address, 50_000n * OPEN] }),
    );
    const deadline = (await clients.public.getBlock()).timestamp + 3600n;
    const permit = await signPermit(alice, {
      chainId: clients.chain.id,
      token: token.address,
      spender: staking.address,
      value: 50_000n * OPEN,
      nonce: 0n,
      deadline,
    });
    line('permit', await sendTx(clients, bob, { ...token, functionName: 'permit', args: permit }));
    line('delegate', await sendTx(clients, alice, { ...token, functionName: 'delegate', args: [alice.address] }));

    // Staking: first stake (cold storage, new staker), a top-up, unbonding, withdrawal.
    line(
      'stake',
      await sendTx(clients, alice, {
        ...staking,
        functionName: 'stake',
        args: [stakingRoles.validator, 20_000n * OPEN],
      }),
    );
    line(
      'stakeTopUp',
      await sendTx(clients, alice, {
        ...staking,
        functionName: 'stake',
        args: [stakingRoles.validator, 10_000n * OPEN],
      }),
    );
    line(
      'requestUnstake',
      await sendTx(clients, alice, {
        ...staking,
        functionName: 'requestUnstake',
        args: [stakingRoles.validator, 5_000n * OPEN],
      }),
    );
    await advanceTime(clients, parameters.staking.unbondingPeriodSeconds + 1);
    line(
      'withdraw',
      await sendTx(clients, alice, { ...staking, functionName: 'withdraw', args: [stakingRoles.validator] }),
    );

    // Governance: grant a slasher through a full proposal; each step's gas is reported.
    const proposal = await passProposal({
      clients,
      deployment,
      proposer: team,
      voters: [investor, team],
      actions: [
        {
          target: staking.address,
          data: encodeCall(StakingArtifact.abi, 'grantRole', [roleIds.SLASHER, slasher.address]),
        },
      ],
      description: 'Grant the dispute resolver the slasher role',
    });
    line('propose', proposal.receipts.propose);
    line('castVote', proposal.receipts.votes[0] as TransactionReceipt);
    line('queue', proposal.receipts.queue);
    line('execute', proposal.receipts.execute);

    // Slashing by the slasher role.
    line(
      'slash',
      await sendTx(clients, slasher, {
        ...staking,
        functionName: 'slash',
        args: [alice.address, stakingRoles.validator, 1_000n * OPEN, keccak256('bench')],
      }),
    );
    await advanceTime(clients, 1);
  } finally {
    await anvil.stop();
  }
}
