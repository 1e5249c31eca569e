/**
 * The demo's paying user: funded with OPEN by the deployer, with one payment channel to the node that the serving
 * and settlement stages share (opened once, with a permit). Its fetch signs each paid request's authorization
 * (x-tributary-authorization, nonces from 1 on the new channel) and pays with vouchers.
 */
import { devAccount, devRoles, OPEN, OpenTokenArtifact, sendTx } from '../../chain/index.js';
import { BaseError } from '../../core/index.js';
import type { NodeUp } from '../../node/index.js';
import { createPayingFetch, openChannel } from '../../settlement/index.js';

export const DEMO_USER = 11;
const DEPOSIT = 100n * OPEN;
const FUNDS = 1_000n * OPEN;
const DAY = 86_400;

const payers = new WeakMap<NodeUp, Promise<ReturnType<typeof createPayingFetch> & { channelId: bigint }>>();

export function demoPayer(node: NodeUp) {
  let p = payers.get(node);
  if (!p) {
    p = (async () => {
      const { clients, deployment } = node.chain;
      const user = devAccount(DEMO_USER);
      if (!node.nodeAddress)
        throw new BaseError('CONFIG_INVALID', 'the demo node has no key to be paid with', {
          details: { field: 'nodeKey' },
        });
      await sendTx(clients, devAccount(devRoles.deployer), {
        address: deployment.contracts.OpenToken,
        abi: OpenTokenArtifact.abi,
        contract: 'OpenToken',
        functionName: 'transfer',
        args: [user.address, FUNDS],
      });
      const channelId = await openChannel({
        clients,
        deployment,
        user,
        node: node.nodeAddress,
        deposit: DEPOSIT,
        durationSeconds: 30 * DAY,
      });
      const paying = createPayingFetch({
        user,
        channelId,
        node: node.nodeAddress,
        domain: { chainId: deployment.chainId, escrow: deployment.contracts.InferenceEscrow },
        authNonce: 0n, // a new channel: no authorization used yet
      });
      return { ...paying, channelId };
    })();
    payers.set(node, p);
  }
  return p;
}
