/**
 * The accounts of anvil's default test mnemonic. Their keys are public: they are for the local development
 * chain only, never for a chain holding value.
 */
import { type HDAccount, mnemonicToAccount } from 'viem/accounts';

export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

/** Index of each dev account's job in the local setup. */
export const devRoles = {
  deployer: 0,
  investorBeneficiary: 1,
  teamBeneficiary: 2,
  firstUser: 3,
  /** The local node's own key: it is paid through channels, signs receipts and posts epochs as a validator. */
  localNode: 10,
} as const;

const cache = new Map<number, HDAccount>();

export function devAccount(index: number): HDAccount {
  let account = cache.get(index);
  if (!account) {
    account = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
    cache.set(index, account);
  }
  return account;
}
