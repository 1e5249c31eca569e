/**
 * Recovering the signer of a digest. Nodes check a signature for every contribution, review and voucher; the
 * native libsecp256k1 (prebuilt in the `secp256k1` package for Linux, macOS and Windows) does it in ~80 µs where
 * the pure-JavaScript path takes ~2-3 ms. The package falls back to JavaScript by itself where no build loads.
 */
import secp from 'secp256k1';
import { type Address, getAddress, type Hex, hexToBytes, keccak256 } from 'viem';

// Half the curve order: signatures with a larger s are the malleated twin of a canonical one (EIP-2).
const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/** The address that signed `digest`, or undefined if `signature` is malformed or not canonical. */
export function recoverSigner(digest: Hex, signature: Hex): Address | undefined {
  const sig = hexToBytes(signature);
  const v = sig[64];
  if (sig.length !== 65 || v === undefined) return undefined;
  const recid = v >= 27 ? v - 27 : v;
  if (recid !== 0 && recid !== 1) return undefined;
  const s = BigInt(`0x${Buffer.from(sig.subarray(32, 64)).toString('hex')}`);
  if (s === 0n || s > HALF_N) return undefined;
  try {
    const pub = secp.ecdsaRecover(sig.subarray(0, 64), recid, hexToBytes(digest), false);
    return getAddress(`0x${keccak256(pub.subarray(1)).slice(26)}`);
  } catch {
    return undefined;
  }
}
