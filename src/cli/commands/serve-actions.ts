/** The actions of `tributary serve` and `tributary adapters …` (the commands are defined in serve.ts). */
import { copyFileSync, mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { deploymentPath, readDeployment } from '../../chain/index.js';
import { nodeUp } from '../../node/index.js';
import { openloraApi } from '../../protocol/index.js';
import { configFrom, isJson, loggerFor } from '../options.js';
import { createOutput, untilSignal } from '../output.js';
import { connectRemote, operatorApi, type RemoteOptions } from '../remote.js';

export async function serve(o: { deployment?: string }, cmd: Command) {
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
}

export async function adaptersList(o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const { api } = await connectRemote(o);
  const r = await api.call(openloraApi.listAdapters);
  out.result(r, () =>
    [
      `${r.loaded.length} loaded, ${(r.usedBytes / 2 ** 20).toFixed(1)} MiB; hits ${r.stats.hits}, misses ${r.stats.misses}, evictions ${r.stats.evictions}`,
      ...r.loaded.map(
        (a) => `  ${a.key}${a.pinned ? ' (pinned)' : ''}  ${(a.memoryBytes / 2 ** 20).toFixed(1)} MiB  ${a.hits} hits`,
      ),
    ].join('\n'),
  );
}

export async function adapterAction(action: 'pin' | 'unpin' | 'evict', hash: string, o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const route = { pin: openloraApi.pinAdapter, unpin: openloraApi.unpinAdapter, evict: openloraApi.evictAdapter }[
    action
  ];
  const r = await operatorApi(o, cmd).call(route, { params: { adapter: hash } });
  out.result(r, () => `${action}: ${JSON.stringify(r)}`);
}
