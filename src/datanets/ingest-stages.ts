/**
 * The stages of ingesting a batch of signed contributions (ingest.ts composes them). Every stage here works on
 * plain values — no database, no chain — so each can be tested on its own:
 *
 *   checkBatchSize   at most MAX_BATCH rows per request
 *   parseSubmission  one row: contributor, nonce and deadline, hex fields, the DataNet pipeline, the signed hash
 *   checkSignature   the contributor's EIP-712 signature of the prepared row
 *   checkBond        the contributor's bond, as the chain reported it
 *   classifyRows     retries, duplicates, replayed nonces, near duplicates → the rows to store
 *   contributionsInsert, usedNoncesInsert   the two INSERTs of the accepted rows
 */
import { type Address, getAddress, type Hex, isAddress, isHex } from 'viem';
import { standardLeaf } from '../chain/index.js';
import { BaseError, messageOf } from '../core/index.js';
import type { DataNetPolicy } from './metadata.js';
import { type PreparedRow, prepareRow } from './rows.js';
import { type DataNetDomain, verifyDataNetMessage } from './signatures.js';

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

/** A row that passed the checks needing nothing but itself: its pipeline output matches what was signed. */
export interface ParsedSubmission {
  index: number;
  row: PreparedRow;
  s: Submission;
  contributor: Address;
  nonce: bigint;
  deadline: bigint;
}

/** A row that passed every check of its own (signature and bond too), with its contribution id. */
export interface CheckedSubmission extends ParsedSubmission {
  id: Hex;
}

/** What the database already holds of a batch: live contributions by content hash, and used `signer:nonce` keys. */
export interface KnownRows {
  twins: ReadonlyMap<string, Hex>;
  usedNonces: ReadonlySet<string>;
}

/** The near-duplicate index classifyRows reads and adds to (an LshIndex). */
export interface NearDuplicateIndex {
  nearest(sig: Uint32Array, threshold: number): { id: Hex; similarity: number } | undefined;
  add(id: Hex, sig: Uint32Array): void;
}

/** A row classifyRows accepted: what is stored, and the result the submitter gets. */
export interface AcceptedRow {
  id: Hex;
  result: SubmissionResult;
  row: PreparedRow;
  s: Submission;
  contributor: Address;
  nonce: bigint;
  deadline: bigint;
}

/** A parameterized statement. */
export interface Statement {
  text: string;
  values: unknown[];
}

export function rejection(index: number, reason: string, message: string): SubmissionResult {
  return { index, status: 'rejected', reason, message };
}

/** PAYLOAD_TOO_LARGE for a batch over MAX_BATCH rows. */
export function checkBatchSize(count: number): void {
  if (count > MAX_BATCH) {
    throw new BaseError('PAYLOAD_TOO_LARGE', `At most ${MAX_BATCH} contributions per request; got ${count}`, {
      details: { field: 'contributions' },
    });
  }
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

/**
 * One submitted row, checked against itself and the DataNet's pipeline: the contributor is an address, nonce and
 * deadline are non-negative integers, the hash and signature are hex, the row passes the pipeline (size, schema,
 * PII policy), and the prepared row hashes to the signed content hash. The rejection otherwise.
 */
export function parseSubmission(
  index: number,
  s: Submission,
  schema: Record<string, unknown>,
  policy: DataNetPolicy,
): { ok: true; parsed: ParsedSubmission } | { ok: false; result: SubmissionResult } {
  const fail = (reason: string, message: string) => ({ ok: false as const, result: rejection(index, reason, message) });
  if (!isAddress(s.contributor)) return fail('contributor', `contributor "${s.contributor}" is not an address`);
  const contributor = getAddress(s.contributor);
  const fields = toSignatureFields(s);
  if (!fields) return fail('signature', 'nonce and deadline must be non-negative integers (decimal strings)');
  if (!isHex(s.signature) || !isHex(s.contentHash) || s.contentHash.length !== 66)
    return fail('signature', 'contentHash must be a 32-byte hex string and signature a hex string');
  const prepared = prepareRow(index + 1, s.content, schema, policy);
  if (!prepared.ok) return fail(prepared.error.reason, prepared.error.message.replace(/^line \d+: /, ''));
  const row = prepared.row;
  if (row.contentHash !== s.contentHash.toLowerCase()) {
    return fail(
      'not_normalized',
      `content differs from what the DataNet pipeline produces (hash ${row.contentHash}); sign the prepared content, not the raw row`,
    );
  }
  return { ok: true, parsed: { index, row, s, contributor, ...fields } };
}

/**
 * The contributor's signature of the prepared row for this DataNet, license, registry and chain, before its
 * deadline: the rejection if not, undefined if it holds.
 */
export async function checkSignature(
  p: ParsedSubmission,
  signed: { domain: DataNetDomain; dataNetId: bigint; licenseId: Hex; now: bigint },
): Promise<SubmissionResult | undefined> {
  try {
    await verifyDataNetMessage(
      signed.domain,
      [
        'Contribution',
        {
          dataNetId: signed.dataNetId,
          contentHash: p.row.contentHash,
          licenseId: signed.licenseId,
          nonce: p.nonce,
          deadline: p.deadline,
        },
      ],
      p.s.signature,
      p.contributor,
      signed.now,
    );
    return undefined;
  } catch (e) {
    return rejection(p.index, 'signature', messageOf(e));
  }
}

/**
 * A contributor's bond against what the DataNet requires: the rejection if it is short, or if a withdrawal of it
 * was requested (a bond on its way out no longer backs new rows: after its delay it could leave before a curator
 * forfeits); undefined if it backs the row.
 */
export function checkBond(
  index: number,
  contributor: Address,
  required: bigint,
  held: { bond: bigint; leaving: boolean },
): SubmissionResult | undefined {
  if (held.bond < required) {
    return rejection(
      index,
      'bond',
      `contributor ${contributor} has ${held.bond} wei of OPEN bonded; this DataNet requires ${required}`,
    );
  }
  if (held.leaving) {
    return rejection(
      index,
      'bond',
      `contributor ${contributor} has asked for the bond back; deposit again to keep contributing`,
    );
  }
  return undefined;
}

/**
 * The checked rows in submission order against what is stored and against each other: a retry of a stored row
 * is `already_submitted`, the same content as another live row a `duplicate`, a nonce used before `replayed`, a
 * row as similar as the threshold to an indexed one a `near_duplicate`; the rest are accepted. Each accepted row
 * counts for the later rows of the batch, and is added to `index` (the caller removes it if storing fails).
 * Results come in the order of `rows`.
 */
export function classifyRows(
  rows: readonly CheckedSubmission[],
  known: KnownRows,
  index: NearDuplicateIndex,
  threshold: number,
): { results: SubmissionResult[]; accepted: AcceptedRow[] } {
  const twins = new Map(known.twins);
  const usedNonces = new Set(known.usedNonces);
  const results: SubmissionResult[] = [];
  const accepted: AcceptedRow[] = [];
  for (const v of rows) {
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
      results.push(
        rejection(
          v.index,
          'replayed',
          `nonce ${v.nonce} of ${v.contributor} was already used; every signature needs a fresh nonce`,
        ),
      );
      continue;
    }
    const near = index.nearest(v.row.minhash, threshold);
    if (near) {
      results.push({
        index: v.index,
        status: 'near_duplicate',
        contributionId: v.id,
        matched: near.id,
        similarity: near.similarity,
        message: `${Math.round(near.similarity * 100)}% similar to contribution ${near.id} (threshold ${Math.round(threshold * 100)}%)`,
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
    index.add(v.id, v.row.minhash); // later rows of this batch are compared with it too
  }
  return { results, accepted };
}

/** The INSERT of the accepted rows into contributions, all pending review. */
export function contributionsInsert(dataNetId: bigint, licenseId: Hex, accepted: readonly AcceptedRow[]): Statement {
  const cols = 13;
  const values: unknown[] = [];
  const tuples = accepted.map((a, i) => {
    values.push(
      a.id,
      dataNetId.toString(),
      a.contributor,
      a.row.contentHash,
      a.row.cid,
      licenseId,
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
  return {
    text: `INSERT INTO contributions (id, datanet_id, contributor, content_hash, cid, license_id, nonce, deadline, signature, bytes, minhash, redacted, source, status)
             VALUES ${tuples.join(', ')}`,
    values,
  };
}

/** The INSERT of the accepted rows' nonces into used_nonces. */
export function usedNoncesInsert(accepted: readonly AcceptedRow[]): Statement {
  return {
    text: `INSERT INTO used_nonces (signer, nonce) VALUES ${accepted.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ')}`,
    values: accepted.flatMap((a) => [a.contributor, a.nonce.toString()]),
  };
}
