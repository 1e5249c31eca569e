import fc from 'fast-check';
import { hashMessage, recoverAddress } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { recoverSigner } from './secp256k1.js';

describe('recoverSigner', () => {
  it('agrees with viem on random keys and messages', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), async (text) => {
        const account = privateKeyToAccount(generatePrivateKey());
        const signature = await account.signMessage({ message: text });
        const digest = hashMessage(text);
        expect(recoverSigner(digest, signature)).toBe(account.address);
        expect(recoverSigner(digest, signature)).toBe(await recoverAddress({ hash: digest, signature }));
      }),
      { numRuns: 50 },
    );
  });

  it('refuses malformed and malleated (high-s) signatures', async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const signature = await account.signMessage({ message: 'x' });
    const digest = hashMessage('x');
    expect(recoverSigner(digest, '0x1234')).toBeUndefined();
    expect(recoverSigner(digest, `${signature.slice(0, -2)}05` as `0x${string}`)).toBeUndefined();
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const s = BigInt(`0x${signature.slice(66, 130)}`);
    const flipped =
      `${signature.slice(0, 66)}${(n - s).toString(16).padStart(64, '0')}${signature.slice(130, 132) === '1b' ? '1c' : '1b'}` as `0x${string}`;
    expect(recoverSigner(digest, flipped)).toBeUndefined();
  });
});
