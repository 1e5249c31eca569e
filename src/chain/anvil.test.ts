import { describe, expect, it } from 'vitest';
import { rejectionOf } from '../../test/fixtures/errors.js';
import { startAnvil } from './anvil.js';
import { connectChain } from './clients.js';

describe('local anvil', () => {
  it('starts on a free port, answers JSON-RPC and stops', async () => {
    const anvil = await startAnvil();
    expect(anvil.port).toBeGreaterThan(0);
    const clients = await connectChain(anvil.rpcUrl);
    expect(clients.chain.id).toBe(31337);
    await anvil.stop();
    await expect(connectChain(anvil.rpcUrl)).rejects.toThrow(`No EVM node answers at ${anvil.rpcUrl}`);
  });

  it('reports a port that is taken, with anvil’s own words', async () => {
    const first = await startAnvil();
    const e = await rejectionOf(startAnvil({ port: first.port }));
    await first.stop();
    expect(e.code).toBe('PROCESS_FAILED');
    expect(e.message).toMatch(/^anvil exited during start-up \(code \d+\): .*(in use|Address already)/i);
  });
});
