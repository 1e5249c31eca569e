/**
 * Attacks of a dishonest node on its own epoch export: it posts the root of what it exports (so the roots agree)
 * but moves money away from the contributors its signed receipts name. Each must be named by the audit.
 */
import { getAddress } from 'viem';
import { describe, expect, it } from 'vitest';
import { attributionHash } from '../attribution/index.js';
import { canonicalJson } from '../core/index.js';
import { type EpochReceiptsExport, parseEpochExport, verifyEpochExport } from './epoch-export.js';
import {
  addr,
  alice,
  aliceKey,
  auditAsPosted,
  bob,
  bobKey,
  c1,
  c2,
  exportOf,
  platformTreasury,
  receiptRow,
  requestAt,
  withdrawal,
} from './test-support/epoch-export.js';
import type { SignedWithdrawal } from './withdrawals.js';

/** An honest epoch: alice 60% and bob 30% of one receipt, bob withdrew c2 before a second one. */
/** `bobsWithdrawal` replaces bob's honest signed withdrawal of c2. */
async function honest(bobsWithdrawal?: () => Promise<SignedWithdrawal>) {
  const rows = [
    await receiptRow(1, {
      contributions: [
        { id: c1, contributor: alice, ppm: 600_000 },
        { id: c2, contributor: bob, ppm: 300_000 },
      ],
    }),
    await receiptRow(2, {
      contributions: [
        { id: c1, contributor: alice, ppm: 200_000 },
        { id: c2, contributor: bob, ppm: 700_000 },
      ],
    }),
  ];
  const w = bobsWithdrawal ? await bobsWithdrawal() : await withdrawal(bobKey, c2);
  return exportOf(rows, new Map([[c2, w]]));
}

/** The export with receipt `i` changed by `change` (a copy; the original is left alone). */
function tampered(e: EpochReceiptsExport, change: (e: EpochReceiptsExport) => void): EpochReceiptsExport {
  const copy = parseEpochExport(canonicalJson(e));
  change(copy);
  return copy;
}

const receipt = (e: EpochReceiptsExport, i: number) => {
  const r = e.receipts[i];
  if (!r) throw new Error(`no receipt ${i}`);
  return r;
};

describe('verifyEpochExport against a dishonest node that posts the root of its own export', () => {
  it('passes the honest export: attributions hash to the signed ones, withdrawals are signed, splits are the parameters', async () => {
    const e = await honest();
    expect(receipt(e, 0).withdrawn).toEqual([c2]);
    expect(receipt(e, 0).contributions).toEqual([{ id: c1, contributor: alice, ppm: 600_000 }]);
    expect(e.withdrawals).toHaveLength(1);
    expect(e.params.unattributedAccount).toBe(platformTreasury);
    const audit = await auditAsPosted(e);
    expect(audit.problems).toEqual([]);
    expect(audit.ok).toBe(true);
  });

  it('attack: 1 wei moved from the contributors to the model owner, the root recomputed to match', async () => {
    const e = tampered(await honest(), (x) => {
      receipt(x, 0).fee.owner += 1n;
      receipt(x, 0).fee.contributors -= 1n;
    });
    const r = receipt(e, 0);
    const audit = await auditAsPosted(e);
    expect(audit.ok).toBe(false);
    expect(audit.problems).toEqual([
      `receipt ${r.id}: the fee split is not the parameters' for a token fee of ${r.fee.tokenFee}: owner ${r.fee.owner} (not ${r.fee.owner - 1n}), contributors ${r.fee.contributors} (not ${r.fee.contributors + 1n})`,
    ]);
  });

  it('attack: shares moved between contributors in what the export pays (the signed attribution says otherwise)', async () => {
    const e = tampered(await honest(), (x) => {
      receipt(x, 1).contributions = [{ id: c1, contributor: alice, ppm: 100_000 }];
      receipt(x, 1).withdrawn = [c2];
    });
    const id = receipt(e, 1).id;
    const audit = await auditAsPosted(e);
    expect(audit.problems).toEqual([
      `receipt ${id}: the contributions it pays are not its attribution's minus the withdrawn: pays [${c1} ${alice} 100000] instead of [${c1} ${alice} 200000]`,
    ]);
  });

  it('attack: shares moved between contributors in the attribution itself (its hash is no longer the signed one)', async () => {
    const e = tampered(await honest(), (x) => {
      const r = receipt(x, 1);
      const a = r.attribution;
      if (!a) throw new Error('no attribution');
      const [first, second] = a.contributions;
      if (!first || !second) throw new Error('two contributions expected');
      [first.ppm, second.ppm] = [second.ppm, first.ppm];
      r.contributions = [{ id: c1, contributor: alice, ppm: 700_000 }];
    });
    const r = receipt(e, 1);
    const audit = await auditAsPosted(e);
    expect(audit.problems).toEqual([
      `receipt ${r.id}: its attribution hashes to ${attributionHash(r.attribution as never)}, not the signed attributionHash ${r.signed.attributionHash}`,
    ]);
  });

  it('attack: a contribution dropped as "withdrawn" without the contributor\'s signature', async () => {
    const e = tampered(await honest(), (x) => {
      const r = receipt(x, 1);
      r.contributions = r.contributions.filter((c) => c.id !== c1);
      r.withdrawn = [...r.withdrawn, c1];
    });
    const id = receipt(e, 1).id;
    const audit = await auditAsPosted(e);
    expect(audit.problems).toEqual([
      `receipt ${id}: contribution ${c1} is listed as withdrawn without the contributor's signed withdrawal`,
      `receipt ${id}: the contributions it pays are not its attribution's minus the withdrawn: pays [] instead of [${c1} ${alice} 200000]`,
    ]);
  });

  it('attack: a withdrawal signed by someone else than the contributor (forged)', async () => {
    const e = await honest(() => withdrawal(bobKey, c2, { signer: aliceKey }));
    const audit = await auditAsPosted(e);
    expect(audit.ok).toBe(false);
    expect(audit.problems[0]).toBe(
      `receipt ${receipt(e, 0).id}: the withdrawal of contribution ${c2} does not verify: Withdrawal signature is not ${bob}'s for this message, DataNet, registry and chain (it recovers to ${alice})`,
    );
  });

  it('attack: a withdrawal replayed from another DataNet (signed for it, exported as it is)', async () => {
    const e = await honest(async () => ({ ...(await withdrawal(bobKey, c2, { dataNetId: 4n })), dataNetId: 4n }));
    const audit = await auditAsPosted(e);
    expect(audit.problems[0]).toBe(
      `receipt ${receipt(e, 0).id}: the withdrawal of contribution ${c2} is signed for DataNet 4, the attribution is of DataNet 3`,
    );
  });

  it('attack: a withdrawal replayed from another DataNet or chain, exported as if signed for this one', async () => {
    for (const other of [{ dataNetId: 4n }, { chainId: 1 }, { registry: addr(0xbad) }]) {
      const e = await honest(() => withdrawal(bobKey, c2, other));
      const audit = await auditAsPosted(e);
      expect(audit.problems[0]).toMatch(
        new RegExp(
          `^receipt ${receipt(e, 0).id}: the withdrawal of contribution ${c2} does not verify: Withdrawal signature is not ${bob}'s for this message, DataNet, registry and chain \\(it recovers to 0x[0-9a-fA-F]{40}\\)$`,
        ),
      );
    }
  });

  it('attack: a withdrawal applied after the request it stops paying', async () => {
    const late = new Date(requestAt.getTime() + 5);
    const e = tampered(await honest(), (x) => {
      const w = x.withdrawals[0];
      if (w) w.withdrawnAt = BigInt(late.getTime());
    });
    const audit = await auditAsPosted(e);
    expect(audit.problems).toContain(
      `receipt ${receipt(e, 0).id}: contribution ${c2} was withdrawn at ${late.getTime()}, after the request (served at ${requestAt.getTime()})`,
    );
  });

  it('attack: shares above 1,000,000 ppm are reported, not paid', async () => {
    const e = tampered(await honest(), (x) => {
      receipt(x, 0).contributions = [
        { id: c1, contributor: alice, ppm: 600_000 },
        { id: c2, contributor: getAddress(bob), ppm: 500_000 },
      ];
      receipt(x, 0).withdrawn = [];
    });
    const posted = {
      payoutRoot: `0x${'00'.repeat(32)}`,
      receiptsRoot: `0x${'00'.repeat(32)}`,
      cumulativeTotal: 0n,
    } as const;
    const audit = await verifyEpochExport(e, new Map(), posted);
    expect(audit.ok).toBe(false);
    expect(audit.problems).toContain(
      `receipt ${receipt(e, 0).id} pays contributions 1100000 ppm in all, above 1,000,000`,
    );
  });
});
