import { describe, expect, it } from 'vitest';
import { rejectionOf } from '../../test/fixtures/errors.js';
import { checkChainNotBehind, type MirrorPlace } from './system.js';

const mirror = (name: string, block: bigint | null): MirrorPlace => ({
  status: async () => ({ name, start: 1n, block, hash: null }),
});

describe('chain consistency at start, asked of the mirrors', () => {
  it("refuses a chain behind any domain's mirror and names that mirror's stream", async () => {
    await checkChainNotBehind([mirror('DataNetRegistry', 12n), mirror('ModelRegistry', null)], 12n);
    const e = await rejectionOf(
      checkChainNotBehind([mirror('DataNetRegistry', 9n), mirror('InferenceEscrow', 12n)], 11n),
    );
    expect(e.code).toBe('CHAIN_MISMATCH');
    expect(e.message).toBe(
      "The chain's head is block 11 but this node has already read InferenceEscrow events up to block 12: the chain lost state (for a local chain: it was killed before saving). Use a new --data-dir, or restore the chain",
    );
  });
});
