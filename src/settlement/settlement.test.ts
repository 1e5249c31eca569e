import fc from 'fast-check';
import { type Address, getAddress } from 'viem';
import { describe, expect, it } from 'vitest';
import { errorOf } from '../../test/fixtures/errors.js';
import { merkleTree, verifyMerkleProof } from '../chain/index.js';
import { computeFee, type FeeParams } from './fees.js';
import { refuseOverCap } from './payments.js';
import { computeEpochPayouts, type PayableReceipt, payoutLeaf, payoutRoles } from './payouts.js';
import { earningContributions } from './withdrawals.js';

const params: FeeParams = {
  platformFeeBps: 500,
  platformFeeFlat: 0n,
  ownerShareBps: 4000,
  stakerShareBps: 1000,
  contributorShareBps: 5000,
};
const addr = (n: number) => getAddress(`0x${n.toString(16).padStart(40, '0')}`);

describe('computeFee', () => {
  it('charges T/1000 × R per direction (rounded up), adds the platform fee, and splits F_net exactly', () => {
    const f = computeFee(params, { inPer1k: 1_000n, outPer1k: 3_001n }, 1500, 10);
    expect(f.tokenFee).toBe(1500n + 31n); // 1500·1000/1000 + ceil(10·3001/1000)
    expect(f.platform).toBe((1531n * 500n) / 10_000n);
    expect(f.fee).toBe(f.tokenFee + f.platform);
    expect(f.owner + f.stakers + f.contributors).toBe(f.net);
    expect(f.owner).toBe((1531n * 4000n) / 10_000n);
  });

  it('refuses bad token counts and splits', () => {
    expect(errorOf(() => computeFee(params, { inPer1k: 1n, outPer1k: 1n }, -1, 0)).message).toBe(
      'inputTokens must be a non-negative integer, got -1',
    );
    expect(
      errorOf(() => computeFee({ ...params, ownerShareBps: 1 }, { inPer1k: 1n, outPer1k: 1n }, 1, 1)).message,
    ).toBe('The fee split must sum to 10000 basis points');
  });
});

const receipt = fc.record({
  inTokens: fc.integer({ min: 0, max: 5000 }),
  outTokens: fc.integer({ min: 0, max: 2000 }),
  inPrice: fc.bigInt({ min: 0n, max: 10n ** 18n }),
  outPrice: fc.bigInt({ min: 0n, max: 10n ** 18n }),
  owner: fc.integer({ min: 1, max: 5 }),
  shares: fc.array(fc.tuple(fc.integer({ min: 100, max: 110 }), fc.integer({ min: 0, max: 300_000 })), {
    maxLength: 4,
  }),
});

type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;

function toReceipts(rs: ValueOf<typeof receipt>[]): PayableReceipt[] {
  return rs.map((r, i) => {
    const fee = computeFee(params, { inPer1k: r.inPrice, outPer1k: r.outPrice }, r.inTokens, r.outTokens);
    let left = 1_000_000;
    const contributions = r.shares.map(([c, ppm]) => {
      const p = Math.min(ppm, left);
      left -= p;
      return { contributor: addr(c), ppm: p };
    });
    return {
      id: `r${i}`,
      fee,
      modelOwner: addr(r.owner),
      contributions,
    };
  });
}

describe('computeEpochPayouts', () => {
  it('pays out exactly the fees, never negative, and deterministically (property)', () => {
    fc.assert(
      fc.property(
        fc.array(receipt, { maxLength: 30 }),
        fc.array(fc.tuple(fc.integer({ min: 200, max: 205 }), fc.bigInt({ min: 0n, max: 10n ** 24n })), {
          maxLength: 4,
        }),
        (rs, stakes) => {
          const receipts = toReceipts(rs);
          const input = {
            receipts,
            stakers: stakes.map(([a, stake]) => ({ address: addr(a), stake })),
            platformTreasury: addr(900),
            unattributedAccount: addr(902),
            dustAccount: addr(901),
            previous: new Map<Address, bigint>(),
          };
          const p = computeEpochPayouts(input);
          const sum = [...p.amounts.values()].reduce((a, b) => a + b, 0n);
          expect(sum).toBe(p.fees);
          expect(payoutRoles.reduce((s, role) => s + p.byRole[role], 0n)).toBe(p.fees);
          for (const v of p.amounts.values()) expect(v >= 0n).toBe(true);
          expect(p.byRole.dust <= BigInt(receipts.length + stakes.length + 10) * 1n + 20n).toBe(true);
          const again = computeEpochPayouts({ ...input, receipts: [...receipts] });
          expect(again.root).toBe(p.root);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('accumulates across epochs and proves each cumulative amount against the root', () => {
    const receipts = toReceipts([
      {
        inTokens: 1000,
        outTokens: 1000,
        inPrice: 10n ** 15n,
        outPrice: 2n * 10n ** 15n,
        owner: 1,
        shares: [
          [100, 600_000],
          [101, 300_000],
        ],
      },
    ]);
    const base = {
      stakers: [{ address: addr(200), stake: 1n }],
      platformTreasury: addr(900),
      unattributedAccount: addr(902),
      dustAccount: addr(901),
    };
    const e1 = computeEpochPayouts({ ...base, receipts, previous: new Map() });
    const e2 = computeEpochPayouts({ ...base, receipts, previous: e1.cumulative });
    for (const [a, v] of e2.cumulative) expect(v).toBe(2n * (e1.cumulative.get(a) ?? 0n));
    expect(e2.cumulativeTotal).toBe(2n * e1.fees);
    const leaves = [...e2.cumulative].map(([a, v]) => payoutLeaf(a, v));
    const tree = merkleTree(leaves);
    expect(tree.root).toBe(e2.root);
    for (const l of leaves) expect(verifyMerkleProof(e2.root, l, tree.proof(l))).toBe(true);
    // The 60/30 split of the contributors' pool (δ = 50% of F_net), the rest to the unattributed account.
    const pool = receipts[0]?.fee.contributors as bigint;
    expect(e1.amounts.get(addr(100))).toBe((pool * 600_000n) / 1_000_000n);
    expect(e1.amounts.get(addr(902))).toBe((pool * 100_000n) / 1_000_000n);
  });

  it('attack: a receipt paying contributions more than 1,000,000 ppm is refused, not paid out of the owner', () => {
    const [r] = toReceipts([
      { inTokens: 10, outTokens: 10, inPrice: 10n ** 15n, outPrice: 10n ** 15n, owner: 1, shares: [] },
    ]);
    const base = {
      stakers: [],
      platformTreasury: addr(900),
      unattributedAccount: addr(902),
      dustAccount: addr(901),
      previous: new Map<Address, bigint>(),
    };
    const over = {
      ...(r as PayableReceipt),
      id: 'r-over',
      contributions: [
        { contributor: addr(100), ppm: 600_000 },
        { contributor: addr(101), ppm: 400_001 },
      ],
    };
    const e = errorOf(() => computeEpochPayouts({ ...base, receipts: [over] }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('Refusing to pay: receipt r-over pays contributions 1000001 ppm in all, above 1,000,000');
    const negative = { ...over, contributions: [{ contributor: addr(100), ppm: -1 }] };
    expect(errorOf(() => computeEpochPayouts({ ...base, receipts: [negative] })).message).toBe(
      'Refusing to pay: receipt r-over pays a contribution -1 ppm: shares are integers from 0',
    );
  });
});

describe('caps and withdrawals', () => {
  it('refuses, before generation, a request whose maximum fee or royalty is above the caller cap', () => {
    const q = computeFee(params, { inPer1k: 1_000n, outPer1k: 2_000n }, 100, 100);
    expect(() =>
      refuseOverCap(q, { value: q.fee, field: 'max_fee' }, { value: q.net, field: 'max_royalty' }),
    ).not.toThrow();
    const fee = errorOf(() => refuseOverCap(q, { value: q.fee - 1n, field: 'max_fee' }));
    expect(fee.code).toBe('PAYMENT_REQUIRED');
    expect(fee.message).toBe(
      `This request may cost up to ${q.fee} wei, above your max_fee of ${q.fee - 1n}: lower max_tokens or raise the cap`,
    );
    const royalty = errorOf(() => refuseOverCap(q, undefined, { value: 0n, field: 'x-tributary-max-royalty' }));
    expect(royalty.message).toBe(
      `This request's royalty may reach ${q.net} wei, above your x-tributary-max-royalty of 0: lower max_tokens or raise the cap`,
    );
  });

  it('lets a withdrawn contribution earn from requests before its withdrawal, and not after', () => {
    const at = new Date('2026-11-01T00:00:00Z');
    const contributions = [{ id: '0xa' }, { id: '0xb' }];
    const withdrawn = new Map([['0xb', { withdrawnAt: at }]]);
    expect(earningContributions(contributions, withdrawn, new Date('2026-10-31T23:59:59Z'))).toEqual(contributions);
    expect(earningContributions(contributions, withdrawn, at)).toEqual([{ id: '0xa' }]);
    expect(earningContributions(contributions, withdrawn, new Date('2026-11-02T00:00:00Z'))).toEqual([{ id: '0xa' }]);
  });
});
