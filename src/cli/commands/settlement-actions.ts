/** The actions of the settlement commands (defined in settlement.ts). */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type Address, formatUnits, getAddress, type Hex, isAddress, parseUnits } from 'viem';
import type { Deployment } from '../../chain/index.js';
import { BaseError } from '../../core/index.js';
import { challengeEpoch, claimPayouts, closeChannel, openChannel } from '../../settlement/index.js';
import { isJson } from '../options.js';
import { createOutput } from '../output.js';
import { connectRemote, operatorApi, type RemoteOptions, signerFrom } from '../remote.js';

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

const deploymentOf = (r: { chainId: number; contracts: Record<string, Address> }) =>
  ({ chainId: r.chainId, contracts: r.contracts }) as unknown as Deployment;

interface EpochView {
  epoch: number;
  status: string;
  receipts: number;
  feesWei: string;
  payoutsWei: Record<string, string>;
  payoutRoot: Hex;
  postGas: number | null;
}

const epochText = (e: EpochView) =>
  [
    `Epoch ${e.epoch} (${e.status}): ${e.receipts} receipts, ${open(e.feesWei)} in fees, root ${e.payoutRoot}`,
    ...Object.entries(e.payoutsWei).map(([role, wei]) => `  ${role.padEnd(13)} ${open(wei)}`),
  ].join('\n');

export async function quote(
  o: RemoteOptions & { model: string; prompt?: string; message?: string; maxTokens: string },
  cmd: Command,
) {
  const out = createOutput(isJson(cmd));
  if ((o.prompt === undefined) === (o.message === undefined))
    throw new BaseError('INVALID_ARGUMENT', 'Give exactly one of --prompt or --message', {
      details: { field: '--prompt' },
    });
  const { api } = await connectRemote(o);
  const q = await api.request<{
    model: string;
    inputTokens: number;
    maxOutputTokens: number;
    maxFeeWei: string;
    split: Record<string, string>;
    node: Address;
  }>('POST', '/v1/quote', {
    model: o.model,
    ...(o.prompt !== undefined ? { prompt: o.prompt } : { messages: [{ role: 'user', content: o.message }] }),
    max_tokens: positiveInt(o.maxTokens, '--max-tokens'),
  });
  out.result(q, () =>
    [
      `${q.model}: ${q.inputTokens} input tokens + up to ${q.maxOutputTokens} output tokens cost at most ${open(q.maxFeeWei)}, paid to node ${q.node}`,
      ...Object.entries(q.split).map(([role, wei]) => `  ${role.padEnd(13)} ${open(wei)}`),
    ].join('\n'),
  );
}

export async function channelOpen(o: RemoteOptions & { deposit: string; days: string }, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const remote = await connectRemote(o);
  const user = signerFrom(o);
  const s = await remote.api.request<{ node: Address | null }>('GET', '/v1/settlement');
  if (!s.node)
    throw new BaseError('NODE_UNAVAILABLE', 'This node has no key, so it takes no payments', {
      details: { api: remote.api.baseUrl },
    });
  const deposit = openAmount(o.deposit, '--deposit');
  const id = await openChannel({
    clients: remote.clients,
    deployment: deploymentOf(remote),
    user,
    node: s.node,
    deposit,
    durationSeconds: positiveInt(o.days, '--days') * 86_400,
  });
  out.result({ channelId: id.toString(), user: user.address, node: s.node, depositWei: deposit.toString() }, () =>
    [
      `Channel ${id} open: ${open(deposit)} from ${user.address} to node ${s.node}`,
      `Send requests with the header x-tributary-channel: ${id} and a voucher (see README).`,
    ].join('\n'),
  );
}

export async function channelShow(id: string, o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const { api } = await connectRemote(o);
  const c = await api.request<Record<string, string | number | boolean>>(
    'GET',
    `/v1/channels/${encodeURIComponent(id)}`,
  );
  out.result(
    c,
    () =>
      `Channel ${c.id}: deposit ${open(c.depositWei as string)}, charged ${open(c.chargedWei as string)}, paid by voucher ${open(c.voucherWei as string)}, available ${open(c.availableWei as string)}`,
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
  const e = await api.request<{
    cumulativeWei: string;
    claimedWei: string;
    claimableWei: string;
    pendingWei: string;
    byModel: { model: string; receipts: number; wei: string }[];
    byContribution: { contributionId: Hex; receipts: number; wei: string }[];
    byDataNet: { dataNetId: string; receipts: number; wei: string }[];
    asStaker: { epoch: number; wei: string }[];
  }>('GET', `/v1/earnings/${addressArg(address, 'address')}`);
  out.result(e, () =>
    [
      `${address}: settled ${open(e.cumulativeWei)} (claimed ${open(e.claimedWei)}, claimable now ${open(e.claimableWei)}); pending ${open(e.pendingWei)}`,
      ...e.byModel.map((m) => `  model owner of ${m.model}: ${open(m.wei)} from ${m.receipts} receipts`),
      ...e.byContribution.map((c) => `  contribution ${c.contributionId}: ${open(c.wei)} from ${c.receipts} receipts`),
      ...e.byDataNet.map((d) => `  treasury of DataNet ${d.dataNetId}: ${open(d.wei)} from ${d.receipts} receipts`),
      ...e.asStaker.map((s) => `  staker in epoch ${s.epoch}: ${open(s.wei)}`),
    ].join('\n'),
  );
}

export async function claim(addresses: string[], o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const remote = await connectRemote(o);
  const payouts: { node: Address; account: Address; cumulative: bigint; proof: Hex[]; claimable: bigint }[] = [];
  for (const a of addresses) {
    const p = await remote.api.request<{
      node: Address;
      cumulativeWei: string;
      claimableWei: string;
      proof: Hex[];
      epoch: number;
    }>('GET', `/v1/payouts/${addressArg(a, 'address')}`);
    if (BigInt(p.claimableWei) > 0n)
      payouts.push({
        node: getAddress(p.node),
        account: getAddress(a),
        cumulative: BigInt(p.cumulativeWei),
        proof: p.proof,
        claimable: BigInt(p.claimableWei),
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
  const api = operatorApi(o, cmd);
  const e = await api.request<EpochView>('POST', '/v1/epochs/close');
  out.result(
    e,
    () =>
      `${epochText(e)}\nPosted (${e.postGas} gas); claims open after the challenge window, then \`tributary epoch finalize ${e.epoch}\``,
  );
}

export async function epochFinalize(n: string, o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const api = operatorApi(o, cmd);
  const e = await api.request<EpochView>('POST', `/v1/epochs/${positiveInt(n, 'epoch')}/finalize`);
  out.result(e, () => epochText(e));
}

export async function epochList(o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const { api } = await connectRemote(o);
  const r = await api.request<{ items: EpochView[] }>('GET', '/v1/epochs');
  out.result(r, () =>
    r.items.length === 0
      ? 'No epochs yet'
      : r.items.map((e) => `Epoch ${e.epoch} (${e.status}): ${e.receipts} receipts, ${open(e.feesWei)}`).join('\n'),
  );
}

export async function epochShow(n: string, o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const { api } = await connectRemote(o);
  const e = await api.request<EpochView>('GET', `/v1/epochs/${positiveInt(n, 'epoch')}`);
  out.result(e, () => epochText(e));
}

export async function epochVerify(n: string, o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const { api } = await connectRemote(o);
  const v = await api.request<{ ok: boolean; problems: string[]; payoutRoot: Hex }>(
    'GET',
    `/v1/epochs/${positiveInt(n, 'epoch')}/verify`,
  );
  out.result(v, () =>
    v.ok
      ? `Epoch ${n} verifies: root ${v.payoutRoot}`
      : `Epoch ${n} does NOT verify:\n${v.problems.map((p) => `  ${p}`).join('\n')}`,
  );
  if (!v.ok) process.exitCode = 1;
}

export async function epochExport(n: string, o: RemoteOptions & { out: string }, cmd: Command) {
  const output = createOutput(isJson(cmd));
  const { api } = await connectRemote(o);
  const res = await api.raw('GET', `/v1/epochs/${positiveInt(n, 'epoch')}/receipts`);
  const text = await res.text();
  writeFileSync(o.out, text);
  output.result(
    { epoch: Number(n), file: o.out, bytes: Buffer.byteLength(text) },
    () => `Wrote epoch ${n}'s receipts export to ${o.out}`,
  );
}

export async function epochChallenge(n: string, o: RemoteOptions & { node?: string }, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const remote = await connectRemote(o);
  const challenger = signerFrom(o);
  const node = o.node
    ? addressArg(o.node, '--node')
    : getAddress((await remote.api.request<{ node: Address }>('GET', '/v1/settlement')).node);
  const receipt = await challengeEpoch(remote.clients, deploymentOf(remote), challenger, node, positiveInt(n, 'epoch'));
  out.result(
    { node, epoch: Number(n), tx: receipt.transactionHash, challenger: challenger.address },
    () =>
      `Epoch ${n} of node ${node} challenged by ${challenger.address}; governance resolves it before the deadline, or it is void (docs/settlement.md)`,
  );
}
