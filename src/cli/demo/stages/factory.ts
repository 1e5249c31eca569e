/**
 * Stage "factory": fine-tunes a LoRA adapter on the bundled base model with the demo DataNet's published version
 * (through the node's ModelFactory, as a durable job), checks it against llama.cpp, and publishes it to
 * ModelRegistry with its lineage — the version's Merkle root, which the registry checks against the DataNet
 * registry — and its prices.
 */
import { parseUnits } from 'viem';
import { z } from 'zod';
import { devAccount } from '../../../chain/index.js';
import { BaseError, isErrorCode } from '../../../core/index.js';
import { createFactoryClient, publishInputOf, publishModelOnChain } from '../../../factory/index.js';
import { createNodeClient } from '../../../protocol/index.js';
import { barsMissed, type DemoStage, reportOf } from '../context.js';

export const MODEL_OWNER = 2;
export const DEMO_MODEL = 'planet-facts';
export const DEMO_PRICES = { priceInPer1k: parseUnits('0.001', 18), priceOutPer1k: parseUnits('0.002', 18) };

export const factoryStage: DemoStage = {
  name: 'factory',
  async run({ node, out, reports }) {
    const datanet = reportOf(reports, 'datanet', z.object({ dataNetId: z.string(), version: z.number().int() }));
    const factory = createFactoryClient(createNodeClient(node.api));
    const started = Date.now();
    const job = await factory.submit({
      name: DEMO_MODEL,
      dataNetId: datanet.dataNetId,
      dataNetVersion: datanet.version,
      // The facts preset (src/factory/request.ts): every row trained, no dropout, a constant learning rate.
      preset: 'facts',
      hyper: { batchSize: 8, seqLen: 48, seed: 42, checkpointEvery: 80 },
    });
    out.note(`  fine-tune job ${job.id} on DataNet ${datanet.dataNetId} version ${datanet.version} …`);
    const final = await factory.follow(job.id, (type, p) => {
      if (type === 'progress' && p !== null && 'totalSteps' in p && p.step && p.step % 80 === 0)
        out.note(`    step ${p.step}/${p.totalSteps} loss ${p.loss?.toFixed(3)}`);
    });
    const r = final.result;
    if (final.status !== 'succeeded' || !r)
      throw new BaseError(
        isErrorCode(final.error?.code) ? final.error.code : 'INTERNAL',
        `fine-tune ${final.status}: ${final.error?.message ?? ''}`,
        { details: { jobId: job.id, status: final.status } },
      );
    const seconds = (Date.now() - started) / 1000;
    const owner = devAccount(MODEL_OWNER);
    const { modelId } = await publishModelOnChain(
      node.chain.clients,
      owner,
      node.chain.deployment.contracts.ModelRegistry,
      publishInputOf(r, DEMO_PRICES),
    );
    out.note(
      `  "${r.name}": loss ${r.metrics.lossFirst.toFixed(2)} → ${r.metrics.lossLast.toFixed(2)}, training exact match ${Math.round((r.metrics.trainExactMatch ?? 0) * 100)}%, llama.cpp parity ${r.metrics.parityMaxAbsDiff.toExponential(1)}; published as model ${modelId} by ${owner.address}`,
    );
    return {
      modelId: modelId.toString(),
      name: r.name,
      owner: owner.address,
      jobId: final.id,
      baseModelHash: r.baseModel.sha256,
      adapterHash: r.adapter.sha256,
      adapterCid: r.adapter.cid,
      receiptCid: r.receiptCid,
      dataNetRoot: r.dataNet.root,
      steps: r.metrics.steps,
      lossFirst: r.metrics.lossFirst,
      lossLast: r.metrics.lossLast,
      evalLoss: r.metrics.evalLoss,
      trainExactMatch: r.metrics.trainExactMatch,
      heldOut: r.heldOut ?? [],
      seconds: Math.round(seconds * 10) / 10,
      parityMaxAbsDiff: r.metrics.parityMaxAbsDiff,
      // Wall time is reported, not a bar: it depends on what else the machine runs (the bench measures it alone).
      barsMissed: barsMissed([
        [(r.metrics.trainExactMatch ?? 0) >= 0.9, `training exact match ${r.metrics.trainExactMatch} < 0.9`],
      ]),
    };
  },
};
