/**
 * What binds an exported receipt's money to what was signed, checked from the export alone:
 *  - its fee split is the one the epoch's parameters give for its token fee (`splitOfTokenFee`), and its fee and
 *    token counts are the signed ones;
 *  - its attribution hashes to the signed `attributionHash`, and belongs to the signed DataNet root;
 *  - the contributions it pays are exactly the attribution's, minus those the contributor withdrew before the
 *    request — each withdrawal proven by the contributor's EIP-712 Withdrawal signature for that DataNet, registry
 *    and chain.
 * What this still trusts is the node's clock: `servedAt` and `withdrawnAt` are its timestamps (a withdrawal's
 * signed deadline bounds how late it can claim one was applied). See docs/settlement.md.
 */
import { getAddress, isAddress, zeroHash } from 'viem';
import { attributionHash } from '../attribution/index.js';
import { messageOf } from '../core/index.js';
import { verifyDataNetMessage } from '../datanets/index.js';
import type { EpochReceiptsExport, ExportedReceipt, ExportedWithdrawal } from '../protocol/index.js';
import { splitOfTokenFee } from './fees.js';

/**
 * The parameters' own consistency: the split sums to 10,000 bps. (That they are ProtocolConfig's — the unattributed
 * recipient included — is checked against the chain by `auditEpoch`.)
 */
export function paramsProblems(e: EpochReceiptsExport): string[] {
  const p = e.params;
  const split = p.ownerShareBps + p.stakerShareBps + p.contributorShareBps;
  return split === 10_000 ? [] : [`params: the fee split sums to ${split} basis points, not 10000`];
}

const feeFields = ['platform', 'fee', 'net', 'owner', 'stakers', 'contributors'] as const;

/** The receipt's fee split against the parameters and the signed message. */
export function feeProblems(e: EpochReceiptsExport, r: ExportedReceipt): string[] {
  const problems: string[] = [];
  if (r.signed.fee !== r.fee.fee)
    problems.push(`receipt ${r.id}: signed fee ${r.signed.fee} differs from the fee split's ${r.fee.fee}`);
  if (BigInt(r.fee.inputTokens) !== r.signed.inputTokens || BigInt(r.fee.outputTokens) !== r.signed.outputTokens)
    problems.push(
      `receipt ${r.id}: the fee split counts ${r.fee.inputTokens}+${r.fee.outputTokens} tokens, the signed receipt ${r.signed.inputTokens}+${r.signed.outputTokens}`,
    );
  const parts = r.fee.platform + r.fee.owner + r.fee.stakers + r.fee.contributors;
  if (parts !== r.fee.fee) problems.push(`receipt ${r.id}: fee parts add up to ${parts}, not ${r.fee.fee}`);
  const expected = splitOfTokenFee(e.params, r.fee.tokenFee);
  const wrong = feeFields.filter((k) => r.fee[k] !== expected[k]).map((k) => `${k} ${r.fee[k]} (not ${expected[k]})`);
  if (wrong.length > 0)
    problems.push(
      `receipt ${r.id}: the fee split is not the parameters' for a token fee of ${r.fee.tokenFee}: ${wrong.join(', ')}`,
    );
  return problems;
}

/** A withdrawal's signature checked once: null when it is the contributor's, else why not. */
export async function withdrawalSignatureProblem(
  e: EpochReceiptsExport,
  w: ExportedWithdrawal,
): Promise<string | null> {
  try {
    await verifyDataNetMessage(
      { chainId: e.chainId, registry: e.dataNetRegistry },
      [
        'Withdrawal',
        { dataNetId: BigInt(w.dataNetId), contributionId: w.contributionId, nonce: w.nonce, deadline: w.deadline },
      ],
      w.signature,
      w.contributor,
      // The deadline must not have passed when the node says it applied the withdrawal.
      BigInt(w.withdrawnAt) / 1000n,
    );
    return null;
  } catch (err) {
    return messageOf(err);
  }
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** A contributor as written in either list (an attribution's may name anything; a DataNet's are addresses). */
const who = (contributor: string) =>
  isAddress(contributor, { strict: false }) ? getAddress(contributor) : contributor;

/** One paid contribution, as the export lists it and as it is derived: `id contributor ppm`. */
const line = (c: { id: string; contributor: string; ppm: number }) =>
  `${c.id.toLowerCase()} ${who(c.contributor)} ${c.ppm}`;

/** The exported withdrawals with each one's signature verdict (null when it is the contributor's), by lower-case id. */
export type CheckedWithdrawals = ReadonlyMap<
  string,
  { withdrawal: ExportedWithdrawal; signatureProblem: string | null }
>;

/**
 * Why contribution `c` of attribution `a` is not proven withdrawn before the request served at `servedAt` (null when
 * it is): its withdrawal must be exported, signed by the attribution's contributor for the attribution's DataNet
 * (and this chain and registry), and applied no later than the request.
 */
function unprovenWithdrawal(
  a: NonNullable<ExportedReceipt['attribution']>,
  c: { id: string; contributor: string },
  servedAt: bigint,
  withdrawals: CheckedWithdrawals,
): string | null {
  const checked = withdrawals.get(c.id.toLowerCase());
  if (!checked) return `contribution ${c.id} is listed as withdrawn without the contributor's signed withdrawal`;
  const { withdrawal: w, signatureProblem } = checked;
  if (signatureProblem) return `the withdrawal of contribution ${c.id} does not verify: ${signatureProblem}`;
  if (a.dataNet === null || a.dataNet.id !== w.dataNetId)
    return `the withdrawal of contribution ${c.id} is signed for DataNet ${w.dataNetId}, the attribution is of DataNet ${a.dataNet?.id ?? 'none'}`;
  if (!same(w.contributor, c.contributor))
    return `the withdrawal of contribution ${c.id} is signed by ${w.contributor}, the attribution names ${c.contributor}`;
  if (w.withdrawnAt > servedAt)
    return `contribution ${c.id} was withdrawn at ${w.withdrawnAt}, after the request (served at ${servedAt})`;
  return null;
}

/** The receipt's attribution against what it signed: the hash, and the DataNet root. */
function signedAttributionProblems(r: ExportedReceipt): string[] {
  const a = r.attribution;
  if (a === null) {
    const problems: string[] = [];
    if (r.signed.attributionHash !== zeroHash)
      problems.push(
        `receipt ${r.id}: signed attributionHash ${r.signed.attributionHash} but the export has no attribution`,
      );
    if (r.contributions.length > 0 || r.withdrawn.length > 0)
      problems.push(`receipt ${r.id}: pays or withdraws contributions without an attribution`);
    return problems;
  }
  const problems: string[] = [];
  const hash = attributionHash(a);
  if (hash !== r.signed.attributionHash)
    problems.push(
      `receipt ${r.id}: its attribution hashes to ${hash}, not the signed attributionHash ${r.signed.attributionHash}`,
    );
  if (a.dataNet !== null && a.dataNet.root !== r.signed.dataNetRoot)
    problems.push(
      `receipt ${r.id}: its attribution is of DataNet root ${a.dataNet.root}, the receipt signed ${r.signed.dataNetRoot}`,
    );
  return problems;
}

/**
 * The receipt's attribution against its signed hash, and the contributions it pays against the attribution minus
 * the contributions proven withdrawn before the request.
 */
export function attributionProblems(r: ExportedReceipt, withdrawals: CheckedWithdrawals): string[] {
  const problems = signedAttributionProblems(r);
  const a = r.attribution;
  if (a === null) return problems;
  const listed = new Set(r.withdrawn.map((id) => id.toLowerCase()));
  const attributedIds = new Set(a.contributions.map((c) => c.id.toLowerCase()));
  for (const id of listed)
    if (!attributedIds.has(id))
      problems.push(`receipt ${r.id}: withdraws contribution ${id}, which its attribution does not name`);
  const owed: { id: string; contributor: string; ppm: number }[] = [];
  for (const c of a.contributions) {
    const id = c.id.toLowerCase();
    const why =
      withdrawals.has(id) || listed.has(id) ? unprovenWithdrawal(a, c, r.servedAt, withdrawals) : 'not withdrawn';
    if (listed.has(id) && why) problems.push(`receipt ${r.id}: ${why}`);
    if (!listed.has(id) && !why)
      problems.push(`receipt ${r.id}: pays contribution ${c.id}, which its contributor withdrew before the request`);
    if (why) owed.push(c);
  }
  const paid = r.contributions.map(line);
  const derived = owed.map(line);
  if (paid.join('\n') !== derived.join('\n')) {
    const extra = paid.filter((x) => !derived.includes(x));
    const missing = derived.filter((x) => !paid.includes(x));
    problems.push(
      `receipt ${r.id}: the contributions it pays are not its attribution's minus the withdrawn: pays [${extra.join('; ')}] instead of [${missing.join('; ')}]`,
    );
  }
  return problems;
}
