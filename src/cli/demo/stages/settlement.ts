/**
 * Stage "settlement": the fees paid through the demo user's channel reach the people who earned them. More paid
 * questions; a quote first; each receipt checked against the node's signature; the epoch closed (vouchers
 * redeemed, payouts computed, root posted by the node as a staked validator) and recomputed from its public
 * export as a challenger would — and through `tributary epoch verify`, which also rejects a tampered copy of the
 * export that moves 1 wei of a receipt from the contributors to the model owner; the challenge window waited out
 * (on the local chain, by advancing its clock); then every payee claims with its Merkle proof.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Address, formatUnits, type Hex } from 'viem';
import { advanceTime, devAccount } from '../../../chain/index.js';
import { BaseError, canonicalJson } from '../../../core/index.js';
import { createNodeClient, type EpochReceiptsExport, openloraApi, settlementApi } from '../../../protocol/index.js';
import { claimPayouts, parseEpochExport } from '../../../settlement/index.js';
import type { DemoStage } from '../context.js';
import { demoPayer } from '../payer.js';
import { PLANET_QUESTIONS } from '../planets.js';
import { DEMO_ACCOUNTS } from './datanet.js';
import { DEMO_MODEL, MODEL_OWNER } from './factory.js';

/** The repository's `bin/tributary.js` (this file sits four levels below the root in src/ and in dist/). */
const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'bin', 'tributary.js');

/** `tributary epoch verify <epoch> … --json` as an auditor runs it: its exit code and verdict. */
function verifyWithCli(api: string, epoch: number, ...flags: string[]) {
  return new Promise<{ code: number; ok: boolean; problems: string[] }>((resolve) => {
    execFile(
      process.execPath,
      [BIN, 'epoch', 'verify', String(epoch), ...flags, '--api', api, '--json'],
      (e, stdout) => {
        let v: { ok?: unknown; problems?: unknown } = {};
        try {
          v = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as typeof v;
        } catch {
          // reported as not verified below
        }
        const problems = Array.isArray(v.problems) ? v.problems.map(String) : [`no verdict: ${stdout}`];
        resolve({ code: e ? Number(e.code ?? 1) : 0, ok: v.ok === true, problems });
      },
    );
  });
}

/** A dishonest node's copy of the export: 1 wei of the first paying receipt moved from the contributors to the owner. */
function skimmed(e: EpochReceiptsExport): EpochReceiptsExport {
  const copy = parseEpochExport(canonicalJson(e));
  const r = copy.receipts.find((x) => x.fee.contributors > 0n);
  if (!r) throw new BaseError('INTERNAL', 'no receipt of the epoch pays its contributors anything');
  r.fee.owner += 1n;
  r.fee.contributors -= 1n;
  return copy;
}

/**
 * The auditor's check through the CLI: the posted export verifies, and a copy that skims 1 wei does not — for its
 * fee split (not merely because the chain holds another root): true when both hold.
 */
async function tamperedExportRejected(
  api: string,
  epoch: number,
  exported: string,
): Promise<{
  honest: Awaited<ReturnType<typeof verifyWithCli>>;
  tampered: Awaited<ReturnType<typeof verifyWithCli>>;
  rejected: boolean;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-demo-epoch-'));
  try {
    const file = join(dir, `epoch-${epoch}-skimmed.json`);
    writeFileSync(file, canonicalJson(skimmed(parseEpochExport(exported))));
    const honest = await verifyWithCli(api, epoch);
    const tampered = await verifyWithCli(api, epoch, '--export', file);
    const forTheSplit = tampered.problems.some((p) => p.includes("the fee split is not the parameters'"));
    return { honest, tampered, rejected: honest.code === 0 && honest.ok && tampered.code === 1 && forTheSplit };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const settlementStage: DemoStage = {
  name: 'settlement',
  async run({ node, out }) {
    const { clients, deployment } = node.chain;
    const api = createNodeClient(node.api);
    const ops = createNodeClient(node.api, { headers: { authorization: `Bearer ${node.operatorToken}` } });
    const payer = await demoPayer(node);
    const paid = createNodeClient(node.api, { fetch: payer.fetch });

    const quote = await api.call(settlementApi.quote, {
      body: { model: DEMO_MODEL, messages: [{ role: 'user', content: PLANET_QUESTIONS[0].question }], max_tokens: 24 },
    });
    out.note(`  quote for one question: at most ${formatUnits(quote.maxFeeWei, 18)} OPEN`);

    const requestIds: string[] = [];
    for (const { question } of PLANET_QUESTIONS) {
      const { tributary: t } = await paid.call(openloraApi.createChatCompletion, {
        body: { model: DEMO_MODEL, max_tokens: 24, messages: [{ role: 'user', content: question }] },
      });
      if ((t.payment?.fee ?? 0n) > quote.maxFeeWei * 4n)
        throw new BaseError('INTERNAL', `request ${t.requestId} cost more than quoted`);
      requestIds.push(t.requestId);
    }
    let verified = 0;
    for (const id of requestIds) {
      const receipt = await api.call(settlementApi.getReceipt, { params: { id } });
      if (receipt.verified) verified++;
    }
    if (verified !== requestIds.length)
      throw new BaseError('INTERNAL', `${requestIds.length - verified} receipts failed signature verification`);
    out.note(`  ${requestIds.length} more paid answers; every receipt verifies against node ${node.nodeAddress}`);

    // Each voucher pays for the requests before it: a last one, on its own, pays for the last answer.
    await payer.payUp(node.api);

    const epoch = await ops.call(settlementApi.closeEpoch);
    const fees = epoch.feesWei;
    const sum = Object.values(epoch.payoutsWei).reduce((a, b) => a + BigInt(b), 0n);
    out.note(
      `  epoch ${epoch.epoch}: ${epoch.receipts} receipts, ${formatUnits(fees, 18)} OPEN in fees, root posted (${epoch.postGas} gas); payouts ${Object.entries(
        epoch.payoutsWei,
      )
        .map(([k, v]) => `${k} ${formatUnits(BigInt(v), 18)}`)
        .join(', ')}`,
    );
    const check = await api.call(settlementApi.verifyEpoch, { params: { epoch: epoch.epoch } });
    if (!check.ok)
      throw new BaseError('INTERNAL', `epoch ${epoch.epoch} does not verify: ${check.problems.join('; ')}`);
    out.note(`  recomputed from its public export: root, total and receipts root match`);
    const exported = await (await api.open(settlementApi.getEpochReceipts, { params: { epoch: epoch.epoch } })).text();
    const audit = await tamperedExportRejected(node.api, epoch.epoch, exported);
    if (!audit.rejected)
      throw new BaseError(
        'INTERNAL',
        `tributary epoch verify: honest export ${audit.honest.ok ? 'verifies' : `fails (${audit.honest.problems.join('; ')})`}; the export skimming 1 wei ${audit.tampered.code === 1 ? 'fails, but not for its fee split' : 'verifies'}: ${audit.tampered.problems.join('; ')}`,
      );
    out.note(
      `  tributary epoch verify: the posted export verifies; a copy moving 1 wei from contributors to the owner is rejected (${audit.tampered.problems.length} problems, the fee split among them)`,
    );

    const settlement = await api.call(settlementApi.getSettlement);
    await advanceTime(clients, settlement.params.challengeWindow + 1);
    await ops.call(settlementApi.finalizeEpoch, { params: { epoch: epoch.epoch } });

    // Everyone owed claims in one batched transaction (claims are cumulative and anyone may send them; batching
    // spreads the transaction's base cost over the payees).
    const payees = new Map<Address, string>();
    for (const i of DEMO_ACCOUNTS.contributors) payees.set(devAccount(i).address, `contributor ${i}`);
    payees.set(devAccount(MODEL_OWNER).address, 'model owner');
    payees.set(settlement.params.unattributedAccount, 'unattributed recipient (ProtocolConfig)');
    payees.set(settlement.params.platformTreasury, 'platform treasury');
    const claimsToSend: {
      node: Address;
      account: Address;
      cumulative: bigint;
      proof: Hex[];
      label: string;
      wei: bigint;
    }[] = [];
    for (const [address, label] of payees) {
      const p = await api.call(settlementApi.getPayout, { params: { address } });
      if (p.claimableWei > 0n)
        claimsToSend.push({
          node: p.node,
          account: address,
          cumulative: p.cumulativeWei,
          proof: p.proof,
          label,
          wei: p.claimableWei,
        });
    }
    if (claimsToSend.length === 0) throw new BaseError('INTERNAL', 'nobody has anything to claim after the epoch');
    const claimed = await claimPayouts(clients, deployment, devAccount(DEMO_ACCOUNTS.owner), claimsToSend);
    const claims = claimsToSend.length;
    const claimGas = Math.round(Number(claimed.gasUsed) / claims);
    const claimedWei = claimsToSend.reduce((sum, c) => sum + c.wei, 0n);
    for (const c of claimsToSend) out.note(`  ${c.label} ${c.account} claimed ${formatUnits(c.wei, 18)} OPEN`);
    out.note(`  ${claims} claims in one transaction: ${claimed.gasUsed} gas, ${claimGas} per claim`);
    return {
      epoch: epoch.epoch,
      requests: epoch.receipts,
      feesWei: epoch.feesWei.toString(),
      payoutsWei: epoch.payoutsWei,
      sumEqualsFees: sum === fees,
      receiptsVerified: verified,
      verifiedByRecompute: check.ok,
      tamperedExportRejected: audit.rejected,
      tamperedExportProblems: audit.tampered.problems,
      claims,
      claimedWei: claimedWei.toString(),
      claimGas,
      claimBatchGas: Number(claimed.gasUsed),
      postGas: epoch.postGas,
    };
  },
};
