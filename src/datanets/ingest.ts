/**
 * Accepting signed contributions. The node runs the same pipeline the contributor ran (normalize, schema, PII
 * policy) and insists on the same content hash, so what is stored is exactly what was signed. Then: signature
 * (EIP-712, this DataNet, this registry, this chain), single-use nonce, bond, exact duplicate (content hash) and
 * near duplicate (MinHash/LSH). Accepted rows are written to the blob store and, in one transaction, to the
 * database; the response is sent only after that commit, so an acknowledged row survives a crash, and a retry of
 * the same signed row is recognized rather than stored twice.
 */
import type { Address, Hex } from 'viem';
import { DataNetRegistryArtifact } from '../chain/index.js';
import { type DataNetContext, domainOf, registryOf } from './context.js';
import {
  type AcceptedRow,
  type CheckedSubmission,
  checkBatchSize,
  checkBond,
  checkSignature,
  classifyRows,
  contributionId,
  contributionsInsert,
  type KnownRows,
  parseSubmission,
  type Submission,
  type SubmissionResult,
  usedNoncesInsert,
} from './ingest-stages.js';
import type { DataNetMetadata } from './metadata.js';
import { LshIndex, MINHASH_SIZE } from './minhash.js';
import { type DataNetRecord, getDataNet, requireMetadata } from './records.js';
import type { DataNetDomain } from './signatures.js';

export {
  contributionId,
  MAX_BATCH,
  type Submission,
  type SubmissionResult,
  type SubmissionStatus,
} from './ingest-stages.js';

export function createIngest(ctx: DataNetContext) {
  const lshByDataNet = new Map<string, Promise<LshIndex<Hex>>>();

  /** The near-duplicate index of a DataNet, built from the store on first use. */
  function lshOf(dataNetId: bigint): Promise<LshIndex<Hex>> {
    const key = dataNetId.toString();
    let index = lshByDataNet.get(key);
    if (!index) {
      index = (async () => {
        const lsh = new LshIndex<Hex>();
        const { rows } = await ctx.db.query<{ id: Hex; minhash: Uint8Array }>(
          `SELECT id, minhash FROM contributions WHERE datanet_id = $1 AND status IN ('pending', 'approved') ORDER BY seq`,
          [key],
        );
        for (const r of rows) lsh.add(r.id, new Uint32Array(new Uint8Array(r.minhash).buffer, 0, MINHASH_SIZE));
        return lsh;
      })();
      lshByDataNet.set(key, index);
    }
    return index;
  }

  /** A contributor's bond in a DataNet, and whether a withdrawal of it was requested (read once per batch). */
  function bondReader(dataNetId: bigint): (contributor: Address) => Promise<{ bond: bigint; leaving: boolean }> {
    const bonds = new Map<string, { bond: bigint; leaving: boolean }>();
    return async (contributor) => {
      let b = bonds.get(contributor);
      if (!b) {
        const call = {
          address: registryOf(ctx),
          abi: DataNetRegistryArtifact.abi,
          args: [dataNetId, contributor],
        } as const;
        const [bond, withdrawableAt] = await Promise.all([
          ctx.clients.public.readContract({ ...call, functionName: 'bondOf' }),
          ctx.clients.public.readContract({ ...call, functionName: 'bondWithdrawableAt' }),
        ]);
        b = { bond, leaving: withdrawableAt !== 0n };
        bonds.set(contributor, b);
      }
      return b;
    };
  }

  /**
   * Stage 1, per row, no database: the pipeline and the signed hash, the signature, the bond. The rows that pass
   * (in submission order) and the rejections of those that do not.
   */
  async function checkRows(
    dataNetId: bigint,
    dataNet: DataNetRecord & { metadata: DataNetMetadata },
    submissions: Submission[],
    signed: { domain: DataNetDomain; now: bigint },
  ): Promise<{ checked: CheckedSubmission[]; rejected: SubmissionResult[] }> {
    const { schema, policy } = dataNet.metadata;
    const bondOf = bondReader(dataNetId);
    const checked: CheckedSubmission[] = [];
    const rejected: SubmissionResult[] = [];
    for (const [index, s] of submissions.entries()) {
      const parsed = parseSubmission(index, s, schema, policy);
      if (!parsed.ok) {
        rejected.push(parsed.result);
        continue;
      }
      const p = parsed.parsed;
      const badSignature = await checkSignature(p, { ...signed, dataNetId, licenseId: dataNet.licenseId });
      if (badSignature) {
        rejected.push(badSignature);
        continue;
      }
      if (dataNet.bondAmount > 0n) {
        const badBond = checkBond(index, p.contributor, dataNet.bondAmount, await bondOf(p.contributor));
        if (badBond) {
          rejected.push(badBond);
          continue;
        }
      }
      checked.push({ ...p, id: contributionId(dataNetId, p.contributor, p.row.contentHash, dataNet.licenseId) });
    }
    return { checked, rejected };
  }

  /** Stage 2: one query each for live twins of these contents and for nonces already used. */
  async function knownRows(dataNetId: bigint, rows: CheckedSubmission[]): Promise<KnownRows> {
    const twins = new Map<string, Hex>();
    const usedNonces = new Set<string>();
    if (rows.length > 0) {
      const t = await ctx.db.query<{ content_hash: string; id: Hex }>(
        `SELECT content_hash, id FROM contributions WHERE datanet_id = $1 AND status <> 'withdrawn' AND content_hash = ANY($2::text[])`,
        [dataNetId.toString(), rows.map((v) => v.row.contentHash)],
      );
      for (const r of t.rows) twins.set(r.content_hash, r.id);
      const n = await ctx.db.query<{ signer: string; nonce: string }>(
        `SELECT u.signer, u.nonce::text AS nonce FROM used_nonces u JOIN unnest($1::text[], $2::numeric[]) AS q(signer, nonce) ON u.signer = q.signer AND u.nonce = q.nonce`,
        [rows.map((v) => v.contributor), rows.map((v) => v.nonce.toString())],
      );
      for (const r of n.rows) usedNonces.add(`${r.signer}:${r.nonce}`);
    }
    return { twins, usedNonces };
  }

  /**
   * Stage 4: the accepted rows' bytes into the blob store, then the rows and their nonces in one transaction. If
   * anything fails, nothing of the batch was stored: it is forgotten in the near-duplicate index too.
   */
  async function store(dataNetId: bigint, licenseId: Hex, accepted: AcceptedRow[], lsh: LshIndex<Hex>): Promise<void> {
    if (accepted.length === 0) return;
    try {
      for (const a of accepted) await ctx.blobs.put(a.row.canonical);
      await ctx.db.transaction(async (tx) => {
        const rows = contributionsInsert(dataNetId, licenseId, accepted);
        await tx.query(rows.text, rows.values);
        const nonces = usedNoncesInsert(accepted);
        await tx.query(nonces.text, nonces.values);
      });
    } catch (e) {
      for (const a of accepted) lsh.remove(a.id);
      throw e;
    }
  }

  /** Ingests a batch: results per row, in submission order, once the accepted rows are stored. */
  async function submit(dataNetId: bigint, submissions: Submission[]): Promise<SubmissionResult[]> {
    checkBatchSize(submissions.length);
    const dataNet = requireMetadata(await getDataNet(ctx.db, dataNetId));
    const signed = { domain: domainOf(ctx), now: ctx.now() };
    const lsh = await lshOf(dataNetId);
    const { checked, rejected } = await checkRows(dataNetId, dataNet, submissions, signed);
    const known = await knownRows(dataNetId, checked);
    // Stage 3: retries, duplicates (also within this batch), replayed nonces, near duplicates.
    const { results, accepted } = classifyRows(checked, known, lsh, dataNet.metadata.policy.nearDuplicateThreshold);
    await store(dataNetId, dataNet.licenseId, accepted, lsh);
    return [...rejected, ...results].sort((a, b) => a.index - b.index);
  }

  return {
    submit,
    /** Drops a contribution from the near-duplicate index (after a rejection or withdrawal). */
    async forget(dataNetId: bigint, id: Hex): Promise<void> {
      (await lshOf(dataNetId)).remove(id);
    },
  };
}
