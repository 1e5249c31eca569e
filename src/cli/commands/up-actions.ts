/** The actions of `tributary up` and `tributary chain up` (defined in up.ts). */
import type { Command } from 'commander';
import { chainUp, configuredBeneficiaries } from '../../chain/index.js';
import { nodeUp } from '../../node/index.js';
import { configFrom, isJson, loggerFor } from '../options.js';
import { createOutput, untilSignal } from '../output.js';

export async function upNode(_opts: unknown, cmd: Command) {
  const config = configFrom(cmd);
  const out = createOutput(isJson(cmd));
  out.note(`Starting Tributary in ${config.dataDir} …`);
  // Listen for Ctrl-C/SIGTERM before starting anything, so a stop during start-up still stops the chain.
  const stopSignal = untilSignal();
  const node = await nodeUp(config, loggerFor(config));
  out.result(
    {
      api: node.api,
      rpcUrl: node.rpcUrl,
      chainId: node.chainId,
      contracts: node.contracts,
      dataDir: node.dataDir,
      node: node.nodeAddress,
    },
    () =>
      [
        'Tributary is up.',
        `  API        ${node.api}  (docs ${node.api}/docs, health ${node.api}/health)`,
        `  Chain      ${node.rpcUrl}  (chain id ${node.chainId}${node.chain.anvil ? ', local anvil' : ''}${node.chain.deployed ? ', contracts just deployed' : ''})`,
        ...Object.entries(node.contracts).map(([name, address]) => `  ${name.padEnd(10)} ${address}`),
        `  Database   ${node.db.dialect} at ${node.db.location}`,
        node.nodeAddress
          ? `  Node key   ${node.nodeAddress}  (paid through channels; operator token in ${node.dataDir}/operator-token)`
          : '  Node key   none: paid models are refused (set TRIBUTARY_NODE_KEY)',
        `  Data       ${node.dataDir}`,
        'Press Ctrl-C to stop.',
      ].join('\n'),
  );
  const signal = await stopSignal;
  out.note(`${signal}: stopping …`);
  await node.stop();
}

export async function upChain(_opts: unknown, cmd: Command) {
  const config = configFrom(cmd);
  const out = createOutput(isJson(cmd));
  const stopSignal = config.rpcUrl ? undefined : untilSignal();
  const up = await chainUp({
    dataDir: config.dataDir,
    rpcUrl: config.rpcUrl,
    chainPort: config.chainPort,
    deployerKey: config.deployerKey,
    beneficiaries: configuredBeneficiaries(config),
    log: loggerFor(config),
  });
  const { deployment } = up;
  out.result({ rpcUrl: up.clients.rpcUrl, chainId: deployment.chainId, contracts: deployment.contracts }, () =>
    [
      `Chain ${deployment.chainId} at ${up.clients.rpcUrl}${up.deployed ? ' — contracts deployed' : ' — existing deployment'}`,
      ...Object.entries(deployment.contracts).map(([name, address]) => `  ${name.padEnd(10)} ${address}`),
      `Deployment file: ${config.dataDir}/deployment.json`,
      up.anvil ? 'Press Ctrl-C to stop.' : '',
    ]
      .filter(Boolean)
      .join('\n'),
  );
  if (!stopSignal) return;
  await stopSignal;
  await up.stop();
}
