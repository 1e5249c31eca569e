import { getAddress, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import {
  type AcceptedRow,
  type CheckedSubmission,
  checkBatchSize,
  checkBond,
  checkSignature,
  classifyRows,
  contributionId,
  contributionsInsert,
  MAX_BATCH,
  type ParsedSubmission,
  parseSubmission,
  type Submission,
  usedNoncesInsert,
} from './ingest-stages.js';
import type { DataNetPolicy } from './metadata.js';
import { LshIndex } from './minhash.js';
import { prepareRow } from './rows.js';
import { type DataNetDomain, signDataNetMessage } from './signatures.js';

const schema = {
  type: 'object',
  required: ['question', 'answer'],
  properties: { question: { type: 'string', minLength: 5 }, answer: { type: 'string', minLength: 1 } },
  additionalProperties: false,
};
const policy: DataNetPolicy = {
  pii: { default: 'redact', kinds: { credit_card: 'reject' } },
  nearDuplicateThreshold: 0.8,
  maxRowBytes: 2000,
};
const alice = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const bob = privateKeyToAccount('0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a');
const domain: DataNetDomain = { chainId: 31337, registry: getAddress('0x5fbdb2315678afecb367f032d93f642f64180aa3') };
const dataNetId = 7n;
const licenseId: Hex = `0x${'11'.repeat(32)}`;
const now = 1_700_000_000n;

/** A submission of `content` as a contributor's client would make it: the prepared row's hash, signed. */
async function submission(
  content: Record<string, unknown>,
  opts: { nonce?: bigint; signer?: typeof alice; deadline?: bigint } = {},
): Promise<Submission> {
  const prepared = prepareRow(1, content, schema, policy);
  if (!prepared.ok) throw new Error(prepared.error.message);
  const nonce = opts.nonce ?? 1n;
  const deadline = opts.deadline ?? now + 3600n;
  const signer = opts.signer ?? alice;
  const signature = await signDataNetMessage(signer, domain, 'Contribution', {
    dataNetId,
    contentHash: prepared.row.contentHash,
    licenseId,
    nonce,
    deadline,
  });
  return {
    contributor: signer.address,
    content,
    contentHash: prepared.row.contentHash,
    nonce: nonce.toString(),
    deadline: deadline.toString(),
    signature,
  };
}

function parsed(index: number, s: Submission): ParsedSubmission {
  const r = parseSubmission(index, s, schema, policy);
  if (!r.ok) throw new Error(`row ${index} was rejected: ${r.result.message}`);
  return r.parsed;
}

function checked(index: number, s: Submission): CheckedSubmission {
  const p = parsed(index, s);
  return { ...p, id: contributionId(dataNetId, p.contributor, p.row.contentHash, licenseId) };
}

const mars = { question: 'What colour is Mars?', answer: 'Red, because of iron oxide dust on its surface.' };
const venus = { question: 'Which planet is the hottest?', answer: 'Venus, whose thick clouds trap heat.' };
const noKnown = { twins: new Map<string, Hex>(), usedNonces: new Set<string>() };

describe('checkBatchSize', () => {
  it('accepts a batch of MAX_BATCH rows and refuses one more with PAYLOAD_TOO_LARGE naming the count', () => {
    expect(() => checkBatchSize(MAX_BATCH)).not.toThrow();
    expect(() => checkBatchSize(MAX_BATCH + 1)).toThrow(
      expect.objectContaining({
        code: 'PAYLOAD_TOO_LARGE',
        message: `At most ${MAX_BATCH} contributions per request; got ${MAX_BATCH + 1}`,
      }),
    );
  });
});

describe('parseSubmission', () => {
  it('accepts a row whose prepared content hashes to its signed hash, with checksummed contributor and bigints', async () => {
    const s = await submission(mars, { nonce: 42n });
    const r = parseSubmission(3, { ...s, contributor: s.contributor.toLowerCase() }, schema, policy);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.parsed.index).toBe(3);
    expect(r.parsed.contributor).toBe(alice.address);
    expect(r.parsed.nonce).toBe(42n);
    expect(r.parsed.deadline).toBe(now + 3600n);
    expect(r.parsed.row.contentHash).toBe(s.contentHash);
    expect(r.parsed.row.line).toBe(4);
  });

  it('accepts the signed hash in upper-case hex', async () => {
    const s = await submission(mars);
    const r = parseSubmission(0, { ...s, contentHash: `0x${s.contentHash.slice(2).toUpperCase()}` }, schema, policy);
    expect(r.ok).toBe(true);
  });

  it('refuses a row whose content does not hash to its signed hash (not_normalized, naming the pipeline hash)', async () => {
    const s = await submission(mars);
    const raw = { question: '  What colour  is Mars?', answer: mars.answer };
    const pipelineHash = prepareRow(1, raw, schema, policy);
    if (!pipelineHash.ok) throw new Error('raw row should pass the pipeline');
    const r = parseSubmission(0, { ...s, content: raw }, schema, policy);
    expect(r).toEqual({
      ok: false,
      result: {
        index: 0,
        status: 'rejected',
        reason: 'not_normalized',
        message: `content differs from what the DataNet pipeline produces (hash ${pipelineHash.row.contentHash}); sign the prepared content, not the raw row`,
      },
    });
  });

  it('refuses a contributor that is not an address', async () => {
    const s = await submission(mars);
    expect(parseSubmission(1, { ...s, contributor: 'alice' }, schema, policy)).toEqual({
      ok: false,
      result: { index: 1, status: 'rejected', reason: 'contributor', message: 'contributor "alice" is not an address' },
    });
  });

  it.each([
    ['a negative nonce', { nonce: '-1' }],
    ['a fractional deadline', { deadline: '1.5' }],
    ['a word for a nonce', { nonce: 'one' }],
  ])('refuses %s', async (_, change) => {
    const s = await submission(mars);
    const r = parseSubmission(0, { ...s, ...change }, schema, policy);
    expect(r.ok ? undefined : r.result).toEqual({
      index: 0,
      status: 'rejected',
      reason: 'signature',
      message: 'nonce and deadline must be non-negative integers (decimal strings)',
    });
  });

  it.each([
    ['a short content hash', (s: Submission) => ({ ...s, contentHash: s.contentHash.slice(0, 40) })],
    ['a content hash that is not hex', (s: Submission) => ({ ...s, contentHash: `0x${'zz'.repeat(32)}` })],
    ['a signature that is not hex', (s: Submission) => ({ ...s, signature: 'signed' })],
  ])('refuses %s', async (_, change) => {
    const r = parseSubmission(0, change(await submission(mars)), schema, policy);
    expect(r.ok ? undefined : r.result?.message).toBe(
      'contentHash must be a 32-byte hex string and signature a hex string',
    );
  });

  it("reports the pipeline's rejection without its line prefix", async () => {
    const s = await submission(mars);
    const r = parseSubmission(4, { ...s, content: { question: 'What colour is Mars?', answer: 3 } }, schema, policy);
    expect(r.ok ? undefined : r.result).toEqual({
      index: 4,
      status: 'rejected',
      reason: 'schema',
      message: 'field /answer must be string',
    });
  });

  it("refuses a row with a kind of personal data the DataNet's policy rejects", async () => {
    const s = await submission(mars);
    const content = { question: 'What is my card number?', answer: '4111 1111 1111 1111' };
    const r = parseSubmission(0, { ...s, content }, schema, policy);
    expect(r.ok ? undefined : r.result?.reason).toBe('pii');
  });
});

describe('checkSignature', () => {
  const signed = { domain, dataNetId, licenseId, now };

  it("accepts the contributor's signature of the prepared row", async () => {
    expect(await checkSignature(parsed(0, await submission(mars)), signed)).toBeUndefined();
  });

  it('refuses a signature by someone else than the contributor', async () => {
    const s = await submission(mars, { signer: bob });
    const r = await checkSignature(parsed(2, { ...s, contributor: alice.address }), signed);
    expect(r).toMatchObject({ index: 2, status: 'rejected', reason: 'signature' });
    expect(r?.message).toContain(`is not ${alice.address}'s for this message`);
  });

  it('refuses a signature made for another DataNet, license or chain', async () => {
    const p = parsed(0, await submission(mars));
    for (const other of [
      { ...signed, dataNetId: 8n },
      { ...signed, licenseId: `0x${'22'.repeat(32)}` as const },
      { ...signed, domain: { ...domain, chainId: 1 } },
    ])
      expect(await checkSignature(p, other)).toMatchObject({ status: 'rejected', reason: 'signature' });
  });

  it('refuses a signature past its deadline', async () => {
    const p = parsed(0, await submission(mars, { deadline: now - 1n }));
    expect(await checkSignature(p, signed)).toEqual({
      index: 0,
      status: 'rejected',
      reason: 'signature',
      message: `Contribution signature expired at ${now - 1n} (now ${now})`,
    });
  });
});

describe('checkBond', () => {
  it('accepts a bond at least the required amount, not on its way out', () => {
    expect(checkBond(0, alice.address, 100n, { bond: 100n, leaving: false })).toBeUndefined();
  });

  it('refuses a bond under the required amount', () => {
    expect(checkBond(1, alice.address, 100n, { bond: 99n, leaving: false })).toEqual({
      index: 1,
      status: 'rejected',
      reason: 'bond',
      message: `contributor ${alice.address} has 99 wei of OPEN bonded; this DataNet requires 100`,
    });
  });

  it('refuses a bond whose withdrawal was requested', () => {
    expect(checkBond(1, alice.address, 100n, { bond: 500n, leaving: true })).toEqual({
      index: 1,
      status: 'rejected',
      reason: 'bond',
      message: `contributor ${alice.address} has asked for the bond back; deposit again to keep contributing`,
    });
  });
});

describe('classifyRows', () => {
  it('accepts new rows, adds them to the near-duplicate index and reports redactions only when there are some', async () => {
    const withEmail = { question: 'Who do I ask about Mars?', answer: 'Write to ops@example.com for anything.' };
    const rows = [
      checked(0, await submission(mars, { nonce: 1n })),
      checked(1, await submission(withEmail, { nonce: 2n })),
    ];
    const lsh = new LshIndex<Hex>();
    const { results, accepted } = classifyRows(rows, noKnown, lsh, 0.8);
    expect(results).toEqual([
      { index: 0, status: 'accepted', contributionId: rows[0]?.id },
      { index: 1, status: 'accepted', contributionId: rows[1]?.id, redacted: { email: 1 } },
    ]);
    expect(accepted.map((a) => a.id)).toEqual(rows.map((r) => r.id));
    expect(accepted[0]?.result).toBe(results[0]);
    expect(lsh.size).toBe(2);
  });

  it('recognizes a retry of a stored row as already_submitted and another live row with its content as a duplicate', async () => {
    const mine = checked(0, await submission(mars));
    const other: Hex = `0x${'ab'.repeat(32)}`;
    const stored = classifyRows(
      [mine],
      { twins: new Map([[mine.row.contentHash, mine.id]]), usedNonces: new Set() },
      new LshIndex(),
      0.8,
    );
    expect(stored.results).toEqual([{ index: 0, status: 'already_submitted', contributionId: mine.id }]);
    const twin = classifyRows(
      [mine],
      { twins: new Map([[mine.row.contentHash, other]]), usedNonces: new Set() },
      new LshIndex(),
      0.8,
    );
    expect(twin.results).toEqual([
      {
        index: 0,
        status: 'duplicate',
        contributionId: mine.id,
        matched: other,
        message: `same content as contribution ${other}`,
      },
    ]);
    expect(stored.accepted).toEqual([]);
    expect(twin.accepted).toEqual([]);
  });

  it('finds duplicates within the batch: the same content from another contributor', async () => {
    const first = checked(0, await submission(mars));
    const second = checked(1, await submission(mars, { signer: bob }));
    const { results, accepted } = classifyRows([first, second], noKnown, new LshIndex(), 0.8);
    expect(results[1]).toEqual({
      index: 1,
      status: 'duplicate',
      contributionId: second.id,
      matched: first.id,
      message: `same content as contribution ${first.id}`,
    });
    expect(accepted).toHaveLength(1);
  });

  it('refuses a nonce used before, stored or earlier in the batch', async () => {
    const first = checked(0, await submission(mars, { nonce: 5n }));
    const second = checked(1, await submission(venus, { nonce: 5n }));
    const replayed = {
      index: 1,
      status: 'rejected',
      reason: 'replayed',
      message: `nonce 5 of ${alice.address} was already used; every signature needs a fresh nonce`,
    };
    expect(classifyRows([first, second], noKnown, new LshIndex(), 0.8).results[1]).toEqual(replayed);
    const stored = { twins: new Map<string, Hex>(), usedNonces: new Set([`${alice.address}:5`]) };
    expect(classifyRows([second], stored, new LshIndex(), 0.8).results).toEqual([replayed]);
  });

  it('refuses a near duplicate of an indexed row, naming the similarity and the threshold', async () => {
    const long = {
      question: 'Why is the surface of Mars red?',
      answer:
        'Iron minerals in the Martian dust and rocks oxidize, or rust, which makes the soil look red; the dust is lifted into the thin atmosphere by winds and storms, so the sky looks reddish too.',
    };
    const near = { ...long, answer: long.answer.replace('storms', 'storm') };
    const original = checked(0, await submission(long, { nonce: 1n }));
    const copy = checked(1, await submission(near, { nonce: 2n }));
    const { results } = classifyRows([original, copy], noKnown, new LshIndex(), 0.8);
    const r = results[1];
    expect(r).toMatchObject({ index: 1, status: 'near_duplicate', contributionId: copy.id, matched: original.id });
    expect(r?.similarity).toBeGreaterThanOrEqual(0.8);
    expect(r?.message).toBe(
      `${Math.round((r?.similarity ?? 0) * 100)}% similar to contribution ${original.id} (threshold 80%)`,
    );
  });

  it('leaves the known rows it was given as they were', async () => {
    const known = { twins: new Map<string, Hex>(), usedNonces: new Set<string>() };
    classifyRows([checked(0, await submission(mars))], known, new LshIndex(), 0.8);
    expect(known.twins.size).toBe(0);
    expect(known.usedNonces.size).toBe(0);
  });
});

describe('contributionsInsert and usedNoncesInsert', () => {
  it('number 13 parameters per contribution and 2 per nonce, in row order', async () => {
    const rows = [
      checked(0, await submission(mars, { nonce: 1n })),
      checked(1, await submission(venus, { nonce: 2n })),
    ];
    const { accepted } = classifyRows(rows, noKnown, new LshIndex(), 0.8);
    const withSource: AcceptedRow[] = accepted.map((a, i) => (i === 1 ? { ...a, s: { ...a.s, source: 'f:2' } } : a));
    const insert = contributionsInsert(dataNetId, licenseId, withSource);
    expect(insert.text).toMatch(/^INSERT INTO contributions \(id, datanet_id, .*, source, status\)\s+VALUES /);
    expect(insert.text).toContain(
      `VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'pending'), ($14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, 'pending')`,
    );
    expect(insert.values).toHaveLength(26);
    const first = withSource[0];
    if (!first) throw new Error('no accepted row');
    expect(insert.values.slice(0, 10)).toEqual([
      first.id,
      '7',
      alice.address,
      first.row.contentHash,
      first.row.cid,
      licenseId,
      '1',
      (now + 3600n).toString(),
      first.s.signature,
      first.row.bytes,
    ]);
    expect(insert.values[10]).toEqual(new Uint8Array(first.row.minhash.buffer));
    expect(insert.values.slice(11, 13)).toEqual(['{}', null]);
    expect(insert.values[25]).toBe('f:2');

    const nonces = usedNoncesInsert(withSource);
    expect(nonces).toEqual({
      text: 'INSERT INTO used_nonces (signer, nonce) VALUES ($1, $2), ($3, $4)',
      values: [alice.address, '1', alice.address, '2'],
    });
  });
});
