/**
 * One row through the ingest pipeline: size limit → normalization → schema → PII policy → canonical bytes and
 * their hash, CID and MinHash signature. Contributors run it before signing and the node runs it again on what
 * it receives: the two must agree byte for byte, so a contributor always signs exactly what is stored.
 */
import { canonicalJson, cidOf, type Hex, keccak256 } from '../core/index.js';
import type { DataNetPolicy } from './metadata.js';
import { minhash } from './minhash.js';
import { normalizeObject, textOf } from './normalize.js';
import type { RowError } from './parse.js';
import { actionFor, findPii, type PiiKind, piiKinds, redact } from './pii.js';
import { compileSchema, schemaViolation } from './schema.js';

export interface PreparedRow {
  line: number;
  content: Record<string, unknown>;
  /** Canonical JSON of `content`: the bytes that are hashed and stored. */
  canonical: string;
  contentHash: Hex;
  cid: string;
  bytes: number;
  /** PII redactions in the content, by kind (counted by their placeholders). */
  redacted: Partial<Record<PiiKind, number>>;
  minhash: Uint32Array;
}

export type PrepareResult = { ok: true; row: PreparedRow } | { ok: false; error: RowError };

const kindNames: Record<PiiKind, string> = {
  email: 'an e-mail address',
  phone: 'a phone number',
  credit_card: 'a payment card number',
  iban: 'an IBAN',
  ssn: 'a social security number',
  ip_address: 'an IP address',
};

interface Pii {
  rejected?: { kind: PiiKind; field: string };
}

const PLACEHOLDER = new RegExp(`\\[(${piiKinds.map((k) => k.toUpperCase()).join('|')})\\]`, 'g');

/**
 * Redactions in `text`, counted by their placeholders. Counting placeholders rather than replacements gives the
 * same answer on the contributor's side (which redacts) and on the node (which receives already redacted text).
 */
function countRedactions(text: string): Partial<Record<PiiKind, number>> {
  const counts: Partial<Record<PiiKind, number>> = {};
  for (const m of text.matchAll(PLACEHOLDER)) {
    const kind = piiKinds.find((k) => k.toUpperCase() === m[1]);
    if (kind) counts[kind] = (counts[kind] ?? 0) + 1; // always one: the placeholder pattern is made of the kinds
  }
  return counts;
}

/** Applies the PII policy to every string in `value` (in place semantics: returns the redacted copy). */
function applyPii(value: unknown, policy: DataNetPolicy, path: string, acc: Pii): unknown {
  if (typeof value === 'string') {
    const findings = findPii(value);
    for (const f of findings) {
      if (actionFor(policy.pii, f.kind) === 'reject' && !acc.rejected)
        acc.rejected = { kind: f.kind, field: path || '/' };
    }
    return findings.length > 0 ? redact(value, findings, policy.pii) : value;
  }
  if (Array.isArray(value)) return value.map((v, i) => applyPii(v, policy, `${path}/${i}`, acc));
  if (value !== null && typeof value === 'object') return applyPiiObject(value, policy, path, acc);
  return value;
}

/** applyPii of an object (a row): the redacted copy. */
function applyPiiObject(value: object, policy: DataNetPolicy, path: string, acc: Pii): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = applyPii(v, policy, `${path}/${k}`, acc);
  return out;
}

export function prepareRow(
  line: number,
  data: Record<string, unknown>,
  schema: Record<string, unknown>,
  policy: DataNetPolicy,
): PrepareResult {
  const fail = (reason: string, message: string, field?: string): PrepareResult => ({
    ok: false,
    error: { line, reason, message: `line ${line}: ${message}`, ...(field ? { field } : {}) },
  });
  const rawBytes = Buffer.byteLength(canonicalJson(data));
  if (rawBytes > policy.maxRowBytes)
    return fail('size', `row is ${rawBytes} bytes, over this DataNet's limit of ${policy.maxRowBytes}`);

  const normalized = normalizeObject(data);
  const violation = schemaViolation(compileSchema(schema), normalized);
  if (violation) return fail('schema', `field ${violation.field} ${violation.message}`, violation.field);

  const pii: Pii = {};
  const content = applyPiiObject(normalized, policy, '', pii);
  if (pii.rejected) {
    const { kind, field } = pii.rejected;
    return fail('pii', `field ${field} contains ${kindNames[kind]}, which this DataNet rejects`, field);
  }
  const text = textOf(content);
  if (text.trim() === '') return fail('empty', 'row has no text');

  const canonical = canonicalJson(content);
  return {
    ok: true,
    row: {
      line,
      content,
      canonical,
      contentHash: keccak256(canonical),
      cid: cidOf(canonical),
      bytes: Buffer.byteLength(canonical),
      redacted: countRedactions(text),
      minhash: minhash(text),
    },
  };
}
