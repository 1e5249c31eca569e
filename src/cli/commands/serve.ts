/**
 * `tributary serve`: a serving node (OpenLoRA) for an existing deployment — the OpenAI-compatible API over every
 * model registered on the bundled base — and `tributary adapters …` to manage a node's adapter cache.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { deploymentPath, readDeployment } from '../../chain/index.js';
import { nodeUp } from '../../node/index.js';
import { configFrom, isJson, loggerFor } from '../options.js';
import { createOutput, untilSignal } from '../output.js';
import { connectRemote, operatorApi, type RemoteOptions, withRemoteOptions } from '../remote.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'serve every model registered on the bundled base through the OpenAI-compatible API, for an existing deployment',
    )
    .option('--rpc <url>', 'the chain of the deployment (default: the local chain of the data directory)')
    .option('--deployment <file>', 'a deployment file to serve (copied into the data directory)')
    .option('--port <port>', 'API port (0 = a free port)')
    .option('--host <host>', 'API interface')
    .option('--database-url <url>', 'Postgres server instead of the embedded PGlite')
    .action(async (o: { deployment?: string }, cmd: Command) => {
      const config = configFrom(cmd);
      const out = createOutput(isJson(cmd));
      if (o.deployment) {
        readDeployment(o.deployment); // refuse a malformed file before anything starts
        mkdirSync(config.dataDir, { recursive: true });
        copyFileSync(o.deployment, deploymentPath(config.dataDir));
      }
      const stopSignal = untilSignal();
      const node = await nodeUp(config, loggerFor(config), { serveOnly: true, requireDeployment: true });
      const models = await node.openlora.listModels();
      out.result(
        {
          api: node.api,
          rpcUrl: node.rpcUrl,
          chainId: node.chainId,
          models: models.map((m) => m.id),
          dataDir: node.dataDir,
        },
        () =>
          [
            `Serving ${models.length} model(s) at ${node.api}/v1 (OpenAI-compatible)`,
            ...models.slice(0, 10).map((m) => `  ${m.id}`),
            'Press Ctrl-C to stop.',
          ].join('\n'),
      );
      await stopSignal;
      await node.stop();
    });

  const adapters = program.command('adapters').description("a serving node's adapter cache: list, pin, unpin, evict");
  withRemoteOptions(adapters.command('list').description('loaded adapters, memory and cache statistics')).action(
    async (o: RemoteOptions, cmd: Command) => {
      const out = createOutput(isJson(cmd));
      const { api } = await connectRemote(o);
      const r = await api.request<{
        loaded: { key: string; pinned: boolean; users: number; memoryBytes: number; hits: number }[];
        usedBytes: number;
        stats: Record<string, number>;
      }>('GET', '/v1/openlora/adapters');
      out.result(r, () =>
        [
          `${r.loaded.length} loaded, ${(r.usedBytes / 2 ** 20).toFixed(1)} MiB; hits ${r.stats.hits}, misses ${r.stats.misses}, evictions ${r.stats.evictions}`,
          ...r.loaded.map(
            (a) =>
              `  ${a.key}${a.pinned ? ' (pinned)' : ''}  ${(a.memoryBytes / 2 ** 20).toFixed(1)} MiB  ${a.hits} hits`,
          ),
        ].join('\n'),
      );
    },
  );
  for (const action of ['pin', 'unpin', 'evict'] as const) {
    withRemoteOptions(
      adapters.command(`${action} <adapterHash>`).description(`${action} an adapter (by its 0x sha-256, or "base")`),
    ).action(async (hash: string, o: RemoteOptions, cmd: Command) => {
      const out = createOutput(isJson(cmd));
      const api = operatorApi(o, cmd);
      const r = await api.request<Record<string, unknown>>('POST', `/v1/openlora/adapters/${hash}/${action}`);
      out.result(r, () => `${action}: ${JSON.stringify(r)}`);
    });
  }
}
