/** The actions of the settlement commands (defined in settlement.ts). */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type Address, formatUnits, getAddress, type Hex, isAddress, parseUnits } from 'viem';
import type { DeploymentAddresses } from '../../chain/index.js';
import { BaseError } from '../../core/index.js';
import { type EpochView, type NodeClient, nodeApi, settlementApi } from '../../protocol/index.js';
import { auditEpoch, challengeEpoch, claimPayouts, closeChannel, openChannel } from '../../settlement/index.js';
import { isJson, readFlagFile } from '../options.js';
import { createOutput } from '../output.js';
import { connectRemote, operatorApi, type Remote, type RemoteOptions, signerFrom } from '../remote.js';

const open = (wei: string | bigint) => `${formatUnits(BigInt(wei), 18)} OPEN`;

function addressArg(v: string, what: string): Address {
  if (!isAddress(v, { strict: false }))
    throw new BaseError('INVALID_ARGUMENT', `Invalid ${what} "${v}": expected a 0x-prefixed 20-byte address`, {
      details: { field: what },
    });
  return getAddress(v);
}

export function openAmount(v: string, flag: string): bigint {
  try {
    const wei = parseUnits(v, 18);
    if (wei > 0n) return wei;
  } catch {
    // reported below
  }
  throw new BaseError(
    'INVALID_ARGUMENT',
    `Invalid ${flag} "${v}": expected a positive amount of OPEN such as 25 or 0.5`,
    { details: { field: flag } },
  );
}

export function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new BaseError('INVALID_ARGUMENT', `Invalid ${flag} "${v}": expected a positive integer`, {
      details: { field: flag },
    });
  return n;
}

/** A channel id argument. */
function channelIdArg(v: string): bigint {
  if (!/^\d{1,78}$/.test(v))
    throw new BaseError('INVALID_ARGUMENT', `Invalid channel id "${v}": expected a non-negative integer`, {
      details: { field: 'channel id' },
    });
  return BigInt(v);
}

/** The node's deployment as settlement's helpers take it: the chain id and the contracts (checked by connectRemote). */
const deploymentOf = (r: Remote): DeploymentAddresses => ({ chainId: r.chainId, contracts: r.contracts });

/** The node's signing address (where payments go); NODE_UNAVAILABLE when it has no key. */
async function nodeAddressOf(api: NodeClient): Promise<Address> {
  const s = await api.call(settlementApi.getSettlement);
  if (!s.node)
    throw new BaseError('NODE_UNAVAILABLE', 'This node has no key, so it takes no payments', {
      details: { api: api.baseUrl },
    });
  return s.node;
}

const epochText = (e: EpochView) =>
  [
    `Epoch ${e.epoch} (${e.status}): ${e.receipts} receipts, ${open(e.feesWei)} in fees, root ${e.payoutRoot}`,
    ...Object.entries(e.payoutsWei).map(([role, wei]) => `  ${role.padEnd(13)} ${open(wei)}`),
  ].join('\n');

export interface QuoteOptions extends RemoteOptions {
  model: string;
  prompt?: string;
  message?: string;
  maxTokens: string;
}

export async function quote(o: QuoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const asked =
    o.prompt !== undefined && o.message === undefined
      ? { prompt: o.prompt }
      : o.message !== undefined && o.prompt === undefined
        ? { messages: [{ role: 'user', content: o.message }] }
        : undefined;
  if (!asked)
    throw new BaseError('INVALID_ARGUMENT', 'Give exactly one of --prompt or --message', {
      details: { field: '--prompt' },
    });
  const { api } = await connectRemote(o);
  const q = await api.call(settlementApi.quote, {
    body: { model: o.model, ...asked, max_tokens: positiveInt(o.maxTokens, '--max-tokens') },
  });
  out.result(q, () =>
    [
      `${q.model}: ${q.inputTokens} input tokens + up to ${q.maxOutputTokens} output tokens cost at most ${open(q.maxFeeWei)}, paid to node ${q.node}`,
      ...Object.entries(q.split).map(([role, wei]) => `  ${role.padEnd(13)} ${open(wei)}`),
    ].join('\n'),
  );
}

export interface ChannelOpenOptions extends RemoteOptions {
  deposit: string;
  days: string;
}

export async function channelOpen(o: ChannelOpenOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const remote = await connectRemote(o);
  const user = signerFrom(o);
  const node = await nodeAddressOf(remote.api);
  const deposit = openAmount(o.deposit, '--deposit');
  const id = await openChannel({
    clients: remote.clients,
    deployment: deploymentOf(remote),
    user,
    node,
    deposit,
    durationSeconds: positiveInt(o.days, '--days') * 86_400,
  });
  out.result({ channelId: id.toString(), user: user.address, node, depositWei: deposit.toString() }, () =>
    [
      `Channel ${id} open: ${open(deposit)} from ${user.address} to node ${node}`,
      `Send requests with the header x-tributary-channel: ${id} and a voucher (see README).`,
    ].join('\n'),
  );
}

export async function channelShow(id: string, o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const { api } = await connectRemote(o);
  const c = await api.call(settlementApi.getChannel, { params: { id: channelIdArg(id) } });
  out.result(
    c,
    () =>
      `Channel ${c.id}: deposit ${open(c.depositWei)}, charged ${open(c.chargedWei)}, paid by voucher ${open(c.voucherWei)}, available ${open(c.availableWei)}`,
  );
}

export async function channelClose(id: string, o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const remote = await connectRemote(o);
  const receipt = await closeChannel(
    remote.clients,
    deploymentOf(remote),
    signerFrom(o),
    BigInt(positiveInt(id, 'channel id')),
  );
  out.result({ channelId: id, tx: receipt.transactionHash }, () => `Channel ${id} closed (${receipt.transactionHash})`);
}

export async function earnings(address: string, o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const { api } = await connectRemote(o);
  const e = await api.call(settlementApi.getEarnings, { params: { address: addressArg(address, 'address') } });
  out.result(e, () =>
    [
      `${address}: settled ${open(e.cumulativeWei)} (claimed ${open(e.claimedWei)}, claimable now ${open(e.claimableWei)}); pending ${open(e.pendingWei)}`,
      ...e.byModel.map((m) => `  model owner of ${m.model}: ${open(m.wei)} from ${m.receipts} receipts`),
      ...e.byContribution.map((c) => `  contribution ${c.contributionId}: ${open(c.wei)} from ${c.receipts} receipts`),
      ...e.asStaker.map((s) => `  staker in epoch ${s.epoch}: ${open(s.wei)}`),
    ].join('\n'),
  );
}

export async function claim(addresses: string[], o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const remote = await connectRemote(o);
  const payouts: { node: Address; account: Address; cumulative: bigint; proof: Hex[]; claimable: bigint }[] = [];
  for (const a of addresses) {
    const p = await remote.api.call(settlementApi.getPayout, { params: { address: addressArg(a, 'address') } });
    if (p.claimableWei > 0n)
      payouts.push({
        node: p.node,
        account: p.account,
        cumulative: p.cumulativeWei,
        proof: p.proof,
        claimable: p.claimableWei,
      });
  }
  if (payouts.length === 0)
    throw new BaseError('NOT_FOUND', `Nothing to claim for ${addresses.join(', ')} under the finalized root`, {
      details: { addresses },
    });
  const receipt = await claimPayouts(remote.clients, deploymentOf(remote), signerFrom(o), payouts);
  const total = payouts.reduce((s, p) => s + p.claimable, 0n);
  out.result(
    {
      tx: receipt.transactionHash,
      gas: Number(receipt.gasUsed),
      claims: payouts.map((p) => ({ account: p.account, claimedWei: p.claimable.toString() })),
    },
    () =>
      [
        `Claimed ${open(total)} for ${payouts.length} account(s) (${receipt.gasUsed} gas)`,
        ...payouts.map((p) => `  ${p.account}: ${open(p.claimable)}`),
      ].join('\n'),
  );
}

export async function epochClose(o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const e = await operatorApi(o, cmd).call(settlementApi.closeEpoch);
  out.result(
    e,
    () =>
      `${epochText(e)}\nPosted (${e.postGas} gas); claims open after the challenge window, then \`tributary epoch finalize ${e.epoch}\``,
  );
}

export async function epochFinalize(n: string, o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const e = await operatorApi(o, cmd).call(settlementApi.finalizeEpoch, { params: { epoch: positiveInt(n, 'epoch') } });
  out.result(e, () => epochText(e));
}

export async function epochList(o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const { api } = await connectRemote(o);
  const r = await api.call(settlementApi.listEpochs);
  out.result(r, () =>
    r.items.length === 0
      ? 'No epochs yet'
      : r.items.map((e) => `Epoch ${e.epoch} (${e.status}): ${e.receipts} receipts, ${open(e.feesWei)}`).join('\n'),
  );
}

export async function epochShow(n: string, o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const { api } = await connectRemote(o);
  const e = await api.call(settlementApi.getEpoch, { params: { epoch: positiveInt(n, 'epoch') } });
  out.result(e, () => epochText(e));
}

export interface EpochVerifyOptions extends RemoteOptions {
  export?: string;
  payouts?: string;
  node?: string;
}

/** The text of a blob of the node's public store. */
async function blobText(api: NodeClient, cid: string): Promise<string> {
  return (await api.open(nodeApi.getBlob, { params: { cid } })).text();
}

/**
 * Verifies a posted epoch here, not on the node: the chain says what was posted, the node's public blob store (or
 * --export / --payouts) gives the bytes, and settlement's audit recomputes everything. Exit code 1 if it does not
 * verify.
 */
export async function epochVerify(n: string, o: EpochVerifyOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const remote = await connectRemote(o);
  const epoch = positiveInt(n, 'epoch');
  const node = o.node ? addressArg(o.node, '--node') : await nodeAddressOf(remote.api);
  const v = await auditEpoch(
    { clients: remote.clients, chainId: remote.chainId, contracts: remote.contracts },
    node,
    epoch,
    {
      receiptsExport: async (cid) => (o.export ? readFlagFile(o.export, '--export') : blobText(remote.api, cid)),
      payoutsExport: async (at) =>
        o.payouts
          ? readFlagFile(o.payouts, '--payouts')
          : blobText(remote.api, (await remote.api.call(settlementApi.getEpoch, { params: { epoch: at } })).payoutsCid),
    },
  );
  out.result(v, () =>
    v.ok
      ? `Epoch ${n} of node ${node} verifies: root ${v.payoutRoot}, every share bound to its signed attribution`
      : `Epoch ${n} of node ${node} does NOT verify:\n${v.problems.map((p) => `  ${p}`).join('\n')}`,
  );
  if (!v.ok) process.exitCode = 1;
}

export interface EpochExportOptions extends RemoteOptions {
  out: string;
}

export async function epochExport(n: string, o: EpochExportOptions, cmd: Command) {
  const output = createOutput(isJson(cmd));
  const { api } = await connectRemote(o);
  const res = await api.open(settlementApi.getEpochReceipts, { params: { epoch: positiveInt(n, 'epoch') } });
  const text = await res.text();
  writeFileSync(o.out, text);
  output.result(
    { epoch: Number(n), file: o.out, bytes: Buffer.byteLength(text) },
    () => `Wrote epoch ${n}'s receipts export to ${o.out}`,
  );
}

export interface EpochChallengeOptions extends RemoteOptions {
  node?: string;
}

export async function epochChallenge(n: string, o: EpochChallengeOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const remote = await connectRemote(o);
  const challenger = signerFrom(o);
  const node = o.node ? addressArg(o.node, '--node') : await nodeAddressOf(remote.api);
  const receipt = await challengeEpoch(remote.clients, remote, challenger, node, positiveInt(n, 'epoch'));
  out.result(
    { node, epoch: Number(n), tx: receipt.transactionHash, challenger: challenger.address },
    () =>
      `Epoch ${n} of node ${node} challenged by ${challenger.address}; governance resolves it before the deadline, or it is void (docs/settlement.md)`,
  );
}
