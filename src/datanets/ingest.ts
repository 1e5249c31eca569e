/**
 * Accepting signed contributions. The node runs the same pipeline the contributor ran (normalize, schema, PII
 * policy) and insists on the same content hash, so what is stored is exactly what was signed. Then: signature
 * (EIP-712, this DataNet, this registry, this chain), single-use nonce, bond, exact duplicate (content hash) and
 * near duplicate (MinHash/LSH). Accepted rows are written to the blob store and, in one transaction, to the
 * database; the response is sent only after that commit, so an acknowledged row survives a crash, and a retry of
 * the same signed row is recognized rather than stored twice.
 */
import { type Address, getAddress, type Hex, isAddress, isHex } from 'viem';
import { DataNetRegistryArtifact, standardLeaf } from '../chain/index.js';
import { BaseError, messageOf } from '../core/index.js';
import { type DataNetContext, domainOf, registryOf } from './context.js';
import { LshIndex, MINHASH_SIZE } from './minhash.js';
import { getDataNet, requireMetadata } from './records.js';
import { type PreparedRow, prepareRow } from './rows.js';
import { verifyDataNetMessage } from './signatures.js';

export interface Submission {
  contributor: string;
  content: Record<string, unknown>;
  contentHash: string;
  nonce: string;
  deadline: string;
  signature: string;
  /** Where the row came from (file:line), for people reading the review queue. */
  source?: string | undefined;
}

export type SubmissionStatus = 'accepted' | 'already_submitted' | 'duplicate' | 'near_duplicate' | 'rejected';

export interface SubmissionResult {
  index: number;
  status: SubmissionStatus;
  contributionId?: Hex;
  /** For duplicates: the contribution this one repeats. */
  matched?: Hex;
  similarity?: number;
  /** For rejections: a stable reason and a sentence naming the field. */
  reason?: string;
  message?: string;
  redacted?: Record<string, number>;
}

export const MAX_BATCH = 1000;

/** The Merkle leaf, which is also the contribution's id. */
export function contributionId(dataNetId: bigint, contributor: Address, contentHash: Hex, licenseId: Hex): Hex {
  return standardLeaf(['uint256', 'address', 'bytes32', 'bytes32'], [dataNetId, contributor, contentHash, licenseId]);
}

function toSignatureFields(s: Submission): { nonce: bigint; deadline: bigint } | undefined {
  try {
    const nonce = BigInt(s.nonce);
    const deadline = BigInt(s.deadline);
    return nonce >= 0n && deadline >= 0n ? { nonce, deadline } : undefined;
  } catch {
    return undefined;
  }
}

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

  async function submit(dataNetId: bigint, submissions: Submission[]): Promise<SubmissionResult[]> {
    if (submissions.length > MAX_BATCH) {
      throw new BaseError(
        'PAYLOAD_TOO_LARGE',
        `At most ${MAX_BATCH} contributions per request; got ${submissions.length}`,
        { details: { field: 'contributions' } },
      );
    }
    const dataNet = requireMetadata(await getDataNet(ctx.db, dataNetId));
    const { schema, policy } = dataNet.metadata;
    const domain = domainOf(ctx);
    const now = ctx.now();
    const lsh = await lshOf(dataNetId);
    const bonds = new Map<string, { bond: bigint; leaving: boolean }>();
    /** A contributor's bond in this DataNet, and whether a withdrawal of it was requested (read once per batch). */
    const bondOf = async (contributor: Address) => {
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
    const results: SubmissionResult[] = [];
    const reject = (index: number, reason: string, message: string): void => {
      results.push({ index, status: 'rejected', reason, message });
    };

    // 1. Per row, no database: the pipeline, the content hash, the signature, the bond.
    const valid: {
      index: number;
      row: PreparedRow;
      s: Submission;
      contributor: Address;
      nonce: bigint;
      deadline: bigint;
      id: Hex;
    }[] = [];
    for (const [index, s] of submissions.entries()) {
      if (!isAddress(s.contributor)) {
        reject(index, 'contributor', `contributor "${s.contributor}" is not an address`);
        continue;
      }
      const contributor = getAddress(s.contributor);
      const fields = toSignatureFields(s);
      if (!fields) {
        reject(index, 'signature', 'nonce and deadline must be non-negative integers (decimal strings)');
        continue;
      }
      if (!isHex(s.signature) || !isHex(s.contentHash) || s.contentHash.length !== 66) {
        reject(index, 'signature', 'contentHash must be a 32-byte hex string and signature a hex string');
        continue;
      }
      const prepared = prepareRow(index + 1, s.content, schema, policy);
      if (!prepared.ok) {
        reject(index, prepared.error.reason, prepared.error.message.replace(/^line \d+: /, ''));
        continue;
      }
      const row = prepared.row;
      if (row.contentHash !== s.contentHash.toLowerCase()) {
        reject(
          index,
          'not_normalized',
          `content differs from what the DataNet pipeline produces (hash ${row.contentHash}); sign the prepared content, not the raw row`,
        );
        continue;
      }
      try {
        await verifyDataNetMessage(
          domain,
          ['Contribution', { dataNetId, contentHash: row.contentHash, licenseId: dataNet.licenseId, ...fields }],
          s.signature,
          contributor,
          now,
        );
      } catch (e) {
        reject(index, 'signature', messageOf(e));
        continue;
      }
      if (dataNet.bondAmount > 0n) {
        const { bond, leaving } = await bondOf(contributor);
        if (bond < dataNet.bondAmount) {
          reject(
            index,
            'bond',
            `contributor ${contributor} has ${bond} wei of OPEN bonded; this DataNet requires ${dataNet.bondAmount}`,
          );
          continue;
        }
        // A bond on its way out no longer backs new rows: after its delay it could leave before a curator forfeits.
        if (leaving) {
          reject(
            index,
            'bond',
            `contributor ${contributor} has asked for the bond back; deposit again to keep contributing`,
          );
          continue;
        }
      }
      valid.push({
        index,
        row,
        s,
        contributor,
        ...fields,
        id: contributionId(dataNetId, contributor, row.contentHash, dataNet.licenseId),
      });
    }

    // 2. One query each for live twins of these contents and for nonces already used.
    const twins = new Map<string, Hex>();
    const usedNonces = new Set<string>();
    if (valid.length > 0) {
      const t = await ctx.db.query<{ content_hash: string; id: Hex }>(
        `SELECT content_hash, id FROM contributions WHERE datanet_id = $1 AND status <> 'withdrawn' AND content_hash = ANY($2::text[])`,
        [dataNetId.toString(), valid.map((v) => v.row.contentHash)],
      );
      for (const r of t.rows) twins.set(r.content_hash, r.id);
      const n = await ctx.db.query<{ signer: string; nonce: string }>(
        `SELECT u.signer, u.nonce::text AS nonce FROM used_nonces u JOIN unnest($1::text[], $2::numeric[]) AS q(signer, nonce) ON u.signer = q.signer AND u.nonce = q.nonce`,
        [valid.map((v) => v.contributor), valid.map((v) => v.nonce.toString())],
      );
      for (const r of n.rows) usedNonces.add(`${r.signer}:${r.nonce}`);
    }

    // 3. In submission order: retries, duplicates (also within this batch), replayed nonces, near duplicates.
    const accepted: {
      id: Hex;
      result: SubmissionResult;
      row: PreparedRow;
      s: Submission;
      contributor: Address;
      nonce: bigint;
      deadline: bigint;
    }[] = [];
    for (const v of valid) {
      const twin = twins.get(v.row.contentHash);
      if (twin === v.id) {
        results.push({ index: v.index, status: 'already_submitted', contributionId: v.id });
        continue;
      }
      if (twin) {
        results.push({
          index: v.index,
          status: 'duplicate',
          contributionId: v.id,
          matched: twin,
          message: `same content as contribution ${twin}`,
        });
        continue;
      }
      const nonceKey = `${v.contributor}:${v.nonce}`;
      if (usedNonces.has(nonceKey)) {
        reject(
          v.index,
          'replayed',
          `nonce ${v.nonce} of ${v.contributor} was already used; every signature needs a fresh nonce`,
        );
        continue;
      }
      const near = lsh.nearest(v.row.minhash, policy.nearDuplicateThreshold);
      if (near) {
        results.push({
          index: v.index,
          status: 'near_duplicate',
          contributionId: v.id,
          matched: near.id,
          similarity: near.similarity,
          message: `${Math.round(near.similarity * 100)}% similar to contribution ${near.id} (threshold ${Math.round(policy.nearDuplicateThreshold * 100)}%)`,
        });
        continue;
      }
      const result: SubmissionResult = {
        index: v.index,
        status: 'accepted',
        contributionId: v.id,
        ...(Object.keys(v.row.redacted).length > 0 ? { redacted: v.row.redacted } : {}),
      };
      results.push(result);
      accepted.push({
        id: v.id,
        result,
        row: v.row,
        s: v.s,
        contributor: v.contributor,
        nonce: v.nonce,
        deadline: v.deadline,
      });
      twins.set(v.row.contentHash, v.id);
      usedNonces.add(nonceKey);
      lsh.add(v.id, v.row.minhash); // later rows of this batch are compared with it too
    }
    results.sort((a, b) => a.index - b.index);

    if (accepted.length > 0) {
      try {
        for (const a of accepted) await ctx.blobs.put(a.row.canonical);
        await ctx.db.transaction(async (tx) => {
          const cols = 13;
          const values: unknown[] = [];
          const tuples = accepted.map((a, i) => {
            values.push(
              a.id,
              dataNetId.toString(),
              a.contributor,
              a.row.contentHash,
              a.row.cid,
              dataNet.licenseId,
              a.nonce.toString(),
              a.deadline.toString(),
              a.s.signature,
              a.row.bytes,
              new Uint8Array(a.row.minhash.buffer, a.row.minhash.byteOffset, a.row.minhash.byteLength),
              JSON.stringify(a.row.redacted),
              a.s.source ?? null,
            );
            return `(${Array.from({ length: cols }, (_, k) => `$${i * cols + k + 1}`).join(', ')}, 'pending')`;
          });
          await tx.query(
            `INSERT INTO contributions (id, datanet_id, contributor, content_hash, cid, license_id, nonce, deadline, signature, bytes, minhash, redacted, source, status)
             VALUES ${tuples.join(', ')}`,
            values,
          );
          const nonceValues = accepted.flatMap((a) => [a.contributor, a.nonce.toString()]);
          await tx.query(
            `INSERT INTO used_nonces (signer, nonce) VALUES ${accepted.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ')}`,
            nonceValues,
          );
        });
      } catch (e) {
        // Nothing of this batch was stored: forget it in the near-duplicate index too.
        for (const a of accepted) lsh.remove(a.id);
        throw e;
      }
    }
    return results;
  }

  return {
    submit,
    /** Drops a contribution from the near-duplicate index (after a rejection or withdrawal). */
    async forget(dataNetId: bigint, id: Hex): Promise<void> {
      (await lshOf(dataNetId)).remove(id);
    },
  };
}
