/**
 * Withdrawals as settlement reads them from the DataNet tables, on every store backend: a withdrawal stored with the
 * contributor's signature stops payment and is exported with it (and the export verifies); one stored without a
 * signature (before they were kept) stops nothing, since the node could not prove it.
 */
import { describe, expect, it } from 'vitest';
import { storeBackends } from '../../test/fixtures/db.js';
import { migrate, migrations } from '../store/index.js';
import {
  alice,
  auditAsPosted,
  bob,
  bobKey,
  c1,
  c2,
  DATANET,
  exportOf,
  receiptRow,
  requestAt,
  withdrawal,
} from './test-support/epoch-export.js';
import { exportedWithdrawal, signedWithdrawals } from './withdrawals.js';

describe.each(storeBackends())('signed withdrawals on $name', (backend) => {
  it('attack: a withdrawal the node cannot prove (no kept signature) stops no payment; a signed one does, exported with its signature', async () => {
    const db = await backend.open();
    try {
      await migrate(db, migrations);
      await db.query(
        `INSERT INTO datanets (id, owner, treasury, metadata_cid, schema_hash, license_id, bond_amount, forfeit_bps, created_block)
         VALUES ($1, $2, $2, 'cid', '0x', '0x', 0, 0, 1)`,
        [DATANET.toString(), alice],
      );
      const signed = await withdrawal(bobKey, c2);
      const at = signed.withdrawnAt;
      const insert = (id: string, contributor: string, s: typeof signed.signed | null) =>
        db.query(
          `INSERT INTO contributions (id, datanet_id, contributor, content_hash, cid, license_id, nonce, deadline, signature, status,
             bytes, minhash, withdrawn_at, withdrawal_nonce, withdrawal_deadline, withdrawal_signature)
           VALUES ($1, $2, $3, $1, 'cid', '0x', 1, 1, '0x', 'withdrawn', 1, '\\x00', $4, $5, $6, $7)`,
          [
            id,
            DATANET.toString(),
            contributor,
            at,
            s?.nonce.toString() ?? null,
            s?.deadline.toString() ?? null,
            s?.signature ?? null,
          ],
        );
      await insert(c2, bob, signed.signed);
      await insert(c1, alice, null);

      const found = await signedWithdrawals(db, [c1, c2, c2]);
      expect([...found.keys()]).toEqual([c2]);
      const w = found.get(c2);
      if (!w?.signed) throw new Error('no signed withdrawal');
      expect(exportedWithdrawal({ ...w, signed: w.signed })).toEqual({
        contributionId: c2,
        dataNetId: DATANET.toString(),
        contributor: bob,
        nonce: signed.signed?.nonce,
        deadline: signed.signed?.deadline,
        signature: signed.signed?.signature,
        withdrawnAt: BigInt(at.getTime()),
      });

      // A receipt naming both: c2 stops earning (signed, before the request), c1 keeps earning (unsigned).
      const row = await receiptRow(1, {
        contributions: [
          { id: c1, contributor: alice, ppm: 400_000 },
          { id: c2, contributor: bob, ppm: 400_000 },
        ],
      });
      expect(at.getTime()).toBeLessThan(requestAt.getTime());
      const e = exportOf([row], found);
      expect(e.receipts[0]?.withdrawn).toEqual([c2]);
      expect(e.receipts[0]?.contributions).toEqual([{ id: c1, contributor: alice, ppm: 400_000 }]);
      expect((await auditAsPosted(e)).problems).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
