import type { Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../core/index.js';
import {
  attributedIds,
  type EpochSettlement,
  epochStatements,
  lastPaidReceipt,
  payoutInputs,
  payoutsExportOf,
  settleExport,
} from './epoch-compute.js';
import { parseEpochExport, parsePayoutsExport } from './epoch-export.js';
import { computeFee } from './fees.js';
import {
  addr,
  alice,
  aliceKey,
  auditAsPosted,
  bob,
  c1,
  c2,
  exportOf,
  hash,
  node,
  params,
  platformTreasury,
  receiptRow,
  requestAt,
  withdrawal,
} from './test-support/epoch-export.js';

describe('lastPaidReceipt', () => {
  it('is the last receipt to settle', async () => {
    const rows = [await receiptRow(1), await receiptRow(2)];
    expect(lastPaidReceipt(rows, 1)).toBe(rows[1]);
  });

  it('refuses an epoch without paid receipts (CONFLICT naming the epoch)', () => {
    expect(() => lastPaidReceipt([], 4)).toThrow(
      expect.objectContaining({
        code: 'CONFLICT',
        message: 'There are no paid receipts to settle yet',
        details: { epoch: 4 },
      }),
    );
  });
});

describe('attributedIds', () => {
  it("lists every contribution the receipts' attributions name, in order", async () => {
    const rows = [
      await receiptRow(1, { contributions: [{ id: c1, contributor: alice, ppm: 500_000 }] }),
      { ...(await receiptRow(2)), attribution: null },
      await receiptRow(3, {
        contributions: [
          { id: c2, contributor: bob, ppm: 100_000 },
          { id: c1, contributor: alice, ppm: 100_000 },
        ],
      }),
    ];
    expect(attributedIds(rows)).toEqual([c1, c2, c1]);
  });
});

describe('payoutInputs', () => {
  it('carries the signed message, when it was served, the attribution, the fee split, the owner and checksummed contributors', async () => {
    const row = await receiptRow(1, { contributions: [{ id: c1, contributor: alice.toLowerCase(), ppm: 250_000 }] });
    const [r] = payoutInputs([row], new Map(), platformTreasury);
    const fee = computeFee(params, { inPer1k: 1_000n, outPer1k: 3_000n }, 100, 10);
    expect(r).toEqual({
      id: row.id,
      signed: expect.objectContaining({ fee: fee.fee, requestHash: row.request_hash, chargedAfter: 1000n }),
      node: node.address,
      signature: row.signature,
      servedAt: BigInt(requestAt.getTime()),
      modelOwner: addr(0x0e),
      fee,
      attribution: row.attribution,
      contributions: [{ id: c1, contributor: alice, ppm: 250_000 }],
      withdrawn: [],
    });
  });

  it('pays the platform treasury as the owner of a model without one', async () => {
    const [r] = payoutInputs([await receiptRow(1, { modelOwner: null })], new Map(), platformTreasury);
    expect(r?.modelOwner).toBe(platformTreasury);
  });

  it('leaves out a contribution withdrawn before the request (listed as withdrawn), not one withdrawn after', async () => {
    const row = await receiptRow(1, {
      contributions: [
        { id: c1, contributor: alice, ppm: 300_000 },
        { id: c2, contributor: bob, ppm: 200_000 },
      ],
    });
    const withdrawn = new Map([
      [c1, await withdrawal(aliceKey, c1, { withdrawnAt: new Date(requestAt.getTime() - 1) })],
      [c2, { ...(await withdrawal(aliceKey, c2)), withdrawnAt: new Date(requestAt.getTime() + 1) }],
    ]);
    const [r] = payoutInputs([row], withdrawn, platformTreasury);
    expect(r?.contributions).toEqual([{ id: c2, contributor: bob, ppm: 200_000 }]);
    expect(r?.withdrawn).toEqual([c1]);
  });

  it('refuses an attribution naming a contribution that is not a 32-byte id (INTERNAL)', async () => {
    const row = await receiptRow(1, { contributions: [{ id: 'row-17', contributor: alice, ppm: 1 }] });
    expect(() => payoutInputs([row], new Map(), platformTreasury)).toThrow(
      expect.objectContaining({
        code: 'INTERNAL',
        message: `A receipt's attribution names contribution "row-17", which is not a 32-byte id`,
      }),
    );
  });

  it('refuses a stored fee split that is not one (a part missing)', async () => {
    const row = await receiptRow(1);
    const { stakers: _, ...partial } = row.fee_breakdown;
    expect(() => payoutInputs([{ ...row, fee_breakdown: partial }], new Map(), platformTreasury)).toThrow(
      /fee breakdown of a receipt/,
    );
  });
});

describe('receiptsExportOf and settleExport', () => {
  it('make an export an auditor reads back byte for byte and recomputes to the same roots', async () => {
    const rows = [
      await receiptRow(1, { contributions: [{ id: c1, contributor: alice, ppm: 600_000 }] }),
      await receiptRow(2, { contributions: [{ id: c2, contributor: bob, ppm: 1_000_000 }], modelOwner: null }),
      await receiptRow(3),
    ];
    const e = exportOf(rows);
    const text = canonicalJson(e);
    expect(canonicalJson(parseEpochExport(text))).toBe(text);

    const audit = await auditAsPosted(e);
    expect(audit.problems).toEqual([]);
    expect(audit.ok).toBe(true);
  });

  it('pays out exactly the fees, by role, and adds them to the cumulative amounts carried over', async () => {
    const rows = [await receiptRow(1, { contributions: [{ id: c1, contributor: alice, ppm: 500_000 }] })];
    const previous = new Map([[alice, 1_000n]]);
    const s = settleExport(exportOf(rows), previous);
    const fee = BigInt(rows[0]?.fee ?? 0);
    expect([...s.payouts.amounts.values()].reduce((a, b) => a + b, 0n)).toBe(fee);
    expect(s.payouts.fees).toBe(fee);
    expect(Object.values(s.byRole).reduce((a, b) => a + BigInt(b), 0n)).toBe(fee);
    expect(s.byRole).toEqual(Object.fromEntries(Object.entries(s.payouts.byRole).map(([k, v]) => [k, v.toString()])));
    expect(s.payouts.cumulative.get(alice)).toBe(1_000n + (s.payouts.amounts.get(alice) ?? 0n));
    expect(s.payouts.cumulativeTotal).toBe(fee + 1_000n);
  });

  it('roots exactly the receipts settled, and pays the same whatever their order', async () => {
    const rows = [await receiptRow(1), await receiptRow(2)];
    const both = settleExport(exportOf(rows), new Map());
    expect(settleExport(exportOf(rows.slice(0, 1)), new Map()).receiptsRoot).not.toBe(both.receiptsRoot);
    expect(settleExport(exportOf([...rows].reverse()), new Map()).payouts.root).toBe(both.payouts.root);
  });

  it('carries a receipt whose fee parts do not add up as stored, so the audit names it', async () => {
    const good = computeFee(params, { inPer1k: 1_000n, outPer1k: 3_000n }, 100, 10);
    const bad = { ...good, owner: good.owner + 5n };
    const rows = [await receiptRow(1), await receiptRow(2, { fee: bad })];
    const e = exportOf(rows);
    expect(e.receipts[1]?.fee).toEqual(bad);
    const s = settleExport(e, new Map());
    // Every wei of the signed fees is still assigned once; the 5 wei too many come out of the dust account.
    expect([...s.payouts.amounts.values()].reduce((a, b) => a + b, 0n)).toBe(s.payouts.fees);
    expect(s.payouts.byRole.dust).toBeLessThan(0n);
    const audit = await auditAsPosted(e);
    expect(audit.ok).toBe(false);
    expect(audit.problems).toEqual([
      `receipt ${rows[1]?.id}: fee parts add up to ${bad.fee + 5n}, not ${bad.fee}`,
      `receipt ${rows[1]?.id}: the fee split is not the parameters' for a token fee of ${bad.tokenFee}: owner ${bad.owner} (not ${good.owner})`,
    ]);
  });
});

describe('payoutsExportOf', () => {
  it("lists every account's cumulative amount, which the next epoch reads back as its previous amounts", async () => {
    const s = settleExport(
      exportOf([await receiptRow(1, { contributions: [{ id: c1, contributor: alice, ppm: 500_000 }] })]),
      new Map([[bob, 7n]]),
    );
    const out = payoutsExportOf(1, s.payouts);
    expect(out).toEqual({
      kind: 'tributary.epoch-payouts',
      epoch: 1,
      root: s.payouts.root,
      cumulative: [...s.payouts.cumulative],
    });
    expect(out.cumulative).toContainEqual([bob, 7n]);
    expect(parsePayoutsExport(canonicalJson(out))).toEqual(s.payouts.cumulative);
  });
});

describe('epochStatements', () => {
  const settlementOf = (accounts: number): EpochSettlement => {
    const cumulative = new Map(Array.from({ length: accounts }, (_, i) => [addr(i + 1), BigInt(10 * (i + 1))]));
    return {
      payouts: {
        fees: 99n,
        amounts: new Map([[addr(1), 4n]]),
        byRole: { platform: 0n, modelOwner: 0n, stakers: 0n, contributors: 0n, unattributed: 0n, dust: 0n },
        cumulative,
        cumulativeTotal: 1234n,
        root: hash('payout root'),
      },
      receiptsRoot: hash('receipts root'),
      byRole: { platform: '99' },
    };
  };
  const ids = (n: number): Hex[] => Array.from({ length: n }, (_, i): Hex => `0x${i.toString(16).padStart(64, '0')}`);

  it('inserts the epoch as redeemed, then its payouts, then marks its receipts', () => {
    const [epoch, payouts, receipts, ...rest] = epochStatements(2, 17n, ids(3), settlementOf(2), {
      receiptsCid: 'receipts-cid',
      payoutsCid: 'payouts-cid',
    });
    expect(rest).toEqual([]);
    expect(epoch?.text).toMatch(/^INSERT INTO epochs \(epoch, status, last_seq, .*\)\s+VALUES \(\$1, 'redeemed', \$2/);
    expect(epoch?.values).toEqual([
      2,
      '17',
      3,
      '99',
      '{"platform":"99"}',
      hash('receipts root'),
      'receipts-cid',
      'payouts-cid',
      hash('payout root'),
      '1234',
    ]);
    expect(payouts).toEqual({
      text: 'INSERT INTO epoch_payouts (epoch, account, amount, cumulative) VALUES ($1, $2, $3, $4), ($1, $5, $6, $7)',
      values: [2, addr(1), '4', '10', addr(2), '0', '20'],
    });
    expect(receipts).toEqual({
      text: 'UPDATE receipts SET epoch = $1 WHERE id = ANY($2::text[])',
      values: [2, ids(3)],
    });
  });

  it('writes payouts 500 and receipt marks 5,000 to a statement', () => {
    const statements = epochStatements(1, 1n, ids(5_001), settlementOf(1_001), { receiptsCid: 'r', payoutsCid: 'p' });
    const payouts = statements.filter((s) => s.text.startsWith('INSERT INTO epoch_payouts'));
    const marks = statements.filter((s) => s.text.startsWith('UPDATE receipts'));
    expect(payouts.map((s) => (s.values.length - 1) / 3)).toEqual([500, 500, 1]);
    expect(payouts[2]?.values).toEqual([1, addr(1001), '0', '10010']);
    expect(marks.map((s) => (Array.isArray(s.values[1]) ? s.values[1].length : 0))).toEqual([5_000, 1]);
    expect(statements).toHaveLength(1 + 3 + 2);
  });
});
