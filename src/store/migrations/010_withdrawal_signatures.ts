/**
 * A withdrawal's signed message is kept with the contribution (nonce, deadline, signature), so that settlement can
 * publish it: an epoch export that stops paying a contribution as withdrawn carries the contributor's own
 * signature of the withdrawal, which anyone can check, instead of the node's word. Withdrawals made before this
 * migration have none (their columns stay null).
 */
export default {
  version: 10,
  name: 'withdrawal-signatures',
  sql: `
    ALTER TABLE contributions ADD COLUMN withdrawal_nonce numeric(78, 0);
    ALTER TABLE contributions ADD COLUMN withdrawal_deadline bigint;
    ALTER TABLE contributions ADD COLUMN withdrawal_signature text;
  `,
};
