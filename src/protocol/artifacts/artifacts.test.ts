import { getAddress } from 'viem';
import { describe, expect, it } from 'vitest';
import { errorOf } from '../../../test/fixtures/errors.js';
import { BaseError, canonicalJson } from '../../core/index.js';
import { attributionResult, parseAttributionResult } from './attribution-result.js';
import { type EpochReceiptsExport, parseEpochExport, parseEpochPayoutsExport } from './epoch-export.js';
import { type Manifest, parseManifest } from './manifest.js';
import { nodeReceipt, parseNodeReceipt } from './node-receipt.js';
import { parseJsonLines } from './parse.js';
import {
  encodeAuthorizationHeader,
  encodeVoucherHeader,
  MAX_UINT256,
  parseAuthorizationHeader,
  parseVoucherHeader,
} from './payment.js';
import { parseTrainingReceipt, trainingReceiptOf } from './training-receipt.js';
import { corpusRow, parseCorpus, parseVersionExport } from './version-export.js';

const h = (byte: string) => `0x${byte.repeat(32)}` as const;
const alice = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' as const;
const sig = `0x${'ab'.repeat(65)}` as const;

describe('parseJsonLines', () => {
  it('names the file, line and field of the first bad row, with details', () => {
    const e = errorOf(() =>
      parseJsonLines(
        corpusRow,
        '{"id":"a","contributor":"x","text":"t"}\n{"id":"b","contributor":3,"text":"t"}',
        'c.jsonl',
      ),
    );
    expect(e).toBeInstanceOf(BaseError);
    expect(e.message).toBe('c.jsonl:2: field "contributor" is not a non-empty string');
    expect(e.details).toEqual({ file: 'c.jsonl', line: 2, field: 'contributor' });
    expect(errorOf(() => parseCorpus('[1]', 'c.jsonl')).message).toBe(
      'c.jsonl:1: expected a JSON object {"id", "contributor", "text"}',
    );
    expect(
      errorOf(() => parseCorpus(`{"id":"a","contributor":"x","text":"${'y'.repeat(1_000_001)}"}`, 'c.jsonl')).message,
    ).toBe('c.jsonl:1: field "text" has 1000001 characters; the limit is 1000000');
  });
});

describe('version export', () => {
  const row = { id: h('11'), contributor: alice.toLowerCase(), cid: 'bafkrei', content: { q: 'a' }, text: 'a' };
  it('reads rows with checksummed contributors and the content as written', () => {
    const [r] = parseVersionExport(`${JSON.stringify(row)}\n`, 'v.jsonl');
    expect(r).toEqual({ ...row, contributor: alice });
  });
  it('refuses a bad id, a missing field and a repeated id', () => {
    expect(errorOf(() => parseVersionExport(JSON.stringify({ ...row, id: '0x12' }), 'v.jsonl')).message).toBe(
      'v.jsonl:1: field "id": expected a 32-byte hex string',
    );
    const { cid: _, ...noCid } = row;
    expect(errorOf(() => parseVersionExport(JSON.stringify(noCid), 'v.jsonl')).message).toBe(
      'v.jsonl:1: field "cid" is missing',
    );
    expect(errorOf(() => parseVersionExport(`${JSON.stringify(row)}\n${JSON.stringify(row)}`, 'v.jsonl')).message).toBe(
      `v.jsonl:2: id "${h('11')}" already used on line 1`,
    );
  });
});

describe('manifest', () => {
  const manifest: Manifest = {
    kind: 'tributary.datanet.version',
    chainId: 31337,
    registry: alice,
    dataNetId: '1',
    version: 1,
    licenseId: h('01'),
    schemaHash: h('02'),
    root: h('03'),
    count: 1,
    contributions: [
      { id: h('04'), contributor: alice, contentHash: h('05'), cid: 'bafk', nonce: '7', deadline: '9', signature: sig },
    ],
    previous: null,
    withdrawnSincePrevious: [],
  };
  it('reads back what was written, to the byte', () => {
    const text = canonicalJson(manifest);
    expect(canonicalJson(parseManifest(text, 'm'))).toBe(text);
  });
  it('names the field of a malformed manifest', () => {
    const bad = { ...manifest, contributions: [{ ...manifest.contributions[0], nonce: 'x' }] };
    expect(errorOf(() => parseManifest(JSON.stringify(bad), 'manifest m')).message).toBe(
      'manifest m: field "contributions.0.nonce": expected a non-negative integer as a decimal string',
    );
    expect(errorOf(() => parseManifest('{"kind":', 'manifest m')).message).toBe(
      'manifest m is not JSON: unexpected end of input at line 1, column 9',
    );
  });
});

describe('training receipt', () => {
  it('is null for another provenance document and names the field of a malformed one', () => {
    expect(trainingReceiptOf('{"kind":"provenance","adapter":{"cid":"x"}}', 'r')).toBeNull();
    expect(
      errorOf(() => trainingReceiptOf('{"kind":"tributary.training-receipt","version":1}', 'training receipt r'))
        .message,
    ).toBe('training receipt r: field "name" is missing');
    expect(errorOf(() => parseTrainingReceipt('{}', 'r')).message).toBe(
      'r: field "kind": Invalid input: expected "tributary.training-receipt"',
    );
  });
});

const attribution = {
  version: 2 as const,
  methods: ['span' as const, 'rag' as const],
  corpusHash: h('05'),
  dataNet: { id: '1', version: 1, root: h('03') },
  contributions: [{ id: h('04'), contributor: alice, score: 0.5, ppm: 600_000 }],
  sharesPpm: { [alice]: 600_000 },
  unattributedPpm: 400_000,
  confidence: 0.25,
  spans: [{ start: 0, end: 3, text: 'abc', contributionIds: [h('04')] }],
};

describe('attribution result', () => {
  it('keeps exactly the hashed fields: an unknown one is refused', () => {
    expect(canonicalJson(parseAttributionResult(JSON.parse(canonicalJson(attribution)), 'a'))).toBe(
      canonicalJson(attribution),
    );
    expect(errorOf(() => parseAttributionResult({ ...attribution, extra: 1 }, 'a')).message).toMatch(/^a: /);
    expect(attributionResult.safeParse({ ...attribution, methods: ['lexical'] }).success).toBe(false);
  });
});

describe('node receipt and epoch export', () => {
  const signed = {
    requestHash: h('a1'),
    modelId: 1n,
    adapterHash: h('a2'),
    dataNetRoot: h('03'),
    inputTokens: 5n,
    outputTokens: 7n,
    fee: 100n,
    attributionHash: h('a3'),
    outputHash: h('a4'),
    channelId: 2n,
    chargedAfter: 100n,
  };
  const fee = {
    inputTokens: 5,
    outputTokens: 7,
    tokenFee: 90n,
    platform: 10n,
    fee: 100n,
    net: 90n,
    owner: 30n,
    stakers: 30n,
    contributors: 30n,
  };
  it('encodes a receipt to strings and decodes it back', () => {
    const receipt = {
      id: h('a5'),
      requestId: 'cmpl-1',
      model: 'm',
      modelOwner: alice,
      dataNet: { id: '1', version: 1, root: h('03'), treasury: null },
      fee,
      attribution,
      signed,
      node: alice,
      signature: sig,
      epoch: null,
      createdAt: new Date('2026-01-02T03:04:05.000Z'),
    };
    const json = nodeReceipt.encode(receipt);
    expect(json.signed.fee).toBe('100');
    expect(json.createdAt).toBe('2026-01-02T03:04:05.000Z');
    expect(parseNodeReceipt(JSON.parse(JSON.stringify(json)), 'r')).toEqual(receipt);
  });
  it('reads an epoch export back with bigints, and names what is not one', () => {
    const e: EpochReceiptsExport = {
      kind: 'tributary.epoch-receipts',
      version: 2,
      epoch: 1,
      node: alice,
      chainId: 31337,
      distributor: alice,
      dataNetRegistry: alice,
      params: {
        platformFeeBps: 100,
        platformFeeFlat: 1n,
        ownerShareBps: 5000,
        stakerShareBps: 2000,
        contributorShareBps: 3000,
        platformTreasury: alice,
        challengeWindow: 3600n,
        unattributedAccount: alice,
      },
      stakeBlock: 12n,
      stakers: [{ address: alice, stake: 10n ** 20n }],
      receipts: [
        {
          id: h('a5'),
          signed,
          node: alice,
          signature: sig,
          servedAt: 1_700_000_000_000n,
          modelOwner: alice,
          fee,
          attribution,
          contributions: [{ id: h('04'), contributor: alice, ppm: 600_000 }],
          withdrawn: [h('05')],
        },
      ],
      withdrawals: [
        {
          contributionId: h('05'),
          dataNetId: '1',
          contributor: alice,
          nonce: 9n,
          deadline: 1_800_000_000n,
          signature: sig,
          withdrawnAt: 1_600_000_000_000n,
        },
      ],
    };
    expect(parseEpochExport(canonicalJson(e))).toEqual(e);
    expect(errorOf(() => parseEpochExport('{"kind":"x"}', 'export')).message).toBe(
      'export is not a version-2 tributary.epoch-receipts export',
    );
    const v1 = errorOf(() => parseEpochExport(canonicalJson({ ...e, version: 1 }), 'export'));
    expect(v1.message).toBe(
      "export is a version-1 epoch export: it lacks the receipts' attributions and the signed withdrawals, so its contributor shares cannot be checked; only version 2 is verifiable",
    );
    expect(v1.details).toEqual({ file: 'export', field: 'version' });
    const payouts = {
      kind: 'tributary.epoch-payouts',
      epoch: 1,
      root: h('06'),
      cumulative: [[alice.toLowerCase(), '5']],
    };
    expect(parseEpochPayoutsExport(JSON.stringify(payouts)).cumulative).toEqual([[getAddress(alice), 5n]]);
  });
});

describe('payment headers', () => {
  it('round-trip, and are refused with the header named', () => {
    expect(parseVoucherHeader(encodeVoucherHeader(12n, sig))).toEqual({ amount: 12n, signature: sig });
    expect(parseAuthorizationHeader(encodeAuthorizationHeader(3n, MAX_UINT256, sig))).toEqual({
      nonce: 3n,
      maxFee: MAX_UINT256,
      signature: sig,
    });
    expect(errorOf(() => parseVoucherHeader('12')).message).toBe(
      'x-tributary-voucher must be "<cumulative amount>:<signature>"',
    );
    expect(errorOf(() => parseAuthorizationHeader(`1:${MAX_UINT256 + 1n}:${sig}`)).message).toBe(
      'x-tributary-authorization must be "<nonce>:<max fee>:<signature>"',
    );
  });
});
