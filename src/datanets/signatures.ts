/**
 * Signing and checking DataNet messages (EIP-712, domain = chain id + registry address). A signature made for
 * one DataNet, registry or chain fails on any other, and each nonce is accepted once (the store keeps them).
 */
import { randomBytes } from 'node:crypto';
import { type Address, getAddress, type Hex, hashTypedData, isAddressEqual, type LocalAccount } from 'viem';
import { BaseError, dataNetDomain, dataNetTypes, keccak256, recoverSigner } from '../core/index.js';

export interface DataNetDomain {
  chainId: number;
  registry: Address;
}

export interface ContributionMessage {
  dataNetId: bigint;
  contentHash: Hex;
  licenseId: Hex;
  nonce: bigint;
  deadline: bigint;
}

export interface ReviewMessage {
  dataNetId: bigint;
  contributionId: Hex;
  approve: boolean;
  spam: boolean;
  reasonHash: Hex;
  nonce: bigint;
  deadline: bigint;
}

export interface WithdrawalMessage {
  dataNetId: bigint;
  contributionId: Hex;
  nonce: bigint;
  deadline: bigint;
}

type Kind = 'Contribution' | 'Review' | 'Withdrawal';
type MessageOf<K extends Kind> = K extends 'Contribution'
  ? ContributionMessage
  : K extends 'Review'
    ? ReviewMessage
    : WithdrawalMessage;

const domainOf = (d: DataNetDomain) => ({ ...dataNetDomain, chainId: d.chainId, verifyingContract: d.registry });

/** A random 256-bit nonce: signers need no counter, and can sign in parallel. */
export function newNonce(): bigint {
  return BigInt(`0x${randomBytes(32).toString('hex')}`);
}

export function reasonHashOf(reason: string): Hex {
  return keccak256(reason);
}

export function signDataNetMessage<K extends Kind>(
  signer: LocalAccount,
  domain: DataNetDomain,
  kind: K,
  message: MessageOf<K>,
): Promise<Hex> {
  // K is generic, which viem's typed-data inference cannot follow; the message type is checked by MessageOf<K>.
  return signer.signTypedData({
    domain: domainOf(domain),
    types: dataNetTypes,
    primaryType: kind,
    message,
  } as unknown as Parameters<LocalAccount['signTypedData']>[0]);
}

/**
 * Checks that `signature` is `expectedSigner`'s signature of `message` and that its deadline has not passed;
 * UNAUTHORIZED otherwise, with a message that says which.
 */
export async function verifyDataNetMessage<K extends Kind>(
  domain: DataNetDomain,
  kind: K,
  message: MessageOf<K>,
  signature: Hex,
  expectedSigner: Address,
  nowSeconds: bigint,
): Promise<void> {
  if (message.deadline < nowSeconds) {
    throw new BaseError('UNAUTHORIZED', `${kind} signature expired at ${message.deadline} (now ${nowSeconds})`, {
      details: { field: 'deadline', deadline: message.deadline.toString() },
    });
  }
  let digest: Hex;
  try {
    digest = hashTypedData({
      domain: domainOf(domain),
      types: dataNetTypes,
      primaryType: kind,
      message,
    } as unknown as Parameters<typeof hashTypedData>[0]);
  } catch (e) {
    throw new BaseError('INVALID_ARGUMENT', `${kind} message is malformed: ${(e as Error).message}`, {
      details: { field: 'message' },
    });
  }
  const signer = recoverSigner(digest, signature);
  if (!signer)
    throw new BaseError('UNAUTHORIZED', `${kind} signature is malformed`, { details: { field: 'signature' } });
  if (!isAddressEqual(signer, expectedSigner)) {
    throw new BaseError(
      'UNAUTHORIZED',
      `${kind} signature is not ${getAddress(expectedSigner)}'s for this message, DataNet, registry and chain (it recovers to ${signer})`,
      { details: { field: 'signature', expected: getAddress(expectedSigner), recovered: signer } },
    );
  }
}
