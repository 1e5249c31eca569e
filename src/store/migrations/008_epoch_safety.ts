/**
 * Settlement that cannot be wedged: receipts a node can no longer redeem (their channel was closed first) are left
 * out of epochs and reported instead; an epoch the chain voided (a challenge not resolved in time, or a fraud proof)
 * is kept with status 'void' — its payouts are carried by the next epoch's cumulative root.
 */
export default {
  version: 8,
  name: 'epoch-safety',
  sql: `
    ALTER TABLE receipts ADD COLUMN unredeemable_at timestamptz;
    CREATE INDEX receipts_unsettled ON receipts (seq) WHERE epoch IS NULL AND unredeemable_at IS NULL;
    ALTER TABLE epochs DROP CONSTRAINT IF EXISTS epochs_status_check;
    ALTER TABLE epochs ADD CONSTRAINT epochs_status_check CHECK (status IN ('computed', 'redeemed', 'posted', 'final', 'void'));
  `,
};
