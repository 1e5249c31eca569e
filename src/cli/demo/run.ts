/**
 * `tributary demo`: the whole loop, non-interactively, on a fresh chain and database in a temporary
 * directory. Each stage reports a JSON object; with --json the last stdout line is
 * `{"ok": bool, "stages": {...}}`. The exit code is non-zero if any stage failed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, type Logger, toBaseError } from '../../core/index.js';
import { nodeUp } from '../../node/index.js';
import type { Output } from '../output.js';
import type { DemoStage } from './context.js';
import { adversarialStage } from './stages/adversarial.js';
import { attributionStage } from './stages/attribution.js';
import { chainStage } from './stages/chain.js';
import { dataNetStage } from './stages/datanet.js';
import { factoryStage } from './stages/factory.js';
import { servingStage } from './stages/serving.js';
import { settlementStage } from './stages/settlement.js';

/** The loop's stages in order; each later capability appends its own. */
export const demoStages: DemoStage[] = [
  chainStage,
  dataNetStage,
  factoryStage,
  servingStage,
  attributionStage,
  settlementStage,
  adversarialStage,
];

export interface DemoResult {
  ok: boolean;
  stages: Record<string, unknown>;
}

export async function runDemo(options: {
  config: Config;
  log: Logger;
  out: Output;
  keep: boolean;
}): Promise<DemoResult> {
  const { out, log } = options;
  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-demo-'));
  const config: Config = {
    ...options.config,
    dataDir,
    port: 0,
    chainPort: 0,
    rpcUrl: undefined,
    databaseUrl: undefined,
    host: '127.0.0.1',
  };
  out.note(`Demo: fresh chain and database in ${dataDir}`);
  const stages: Record<string, unknown> = {};
  let ok = true;
  const node = await nodeUp(config, log);
  try {
    for (const stage of demoStages) {
      out.note(`▸ ${stage.name}`);
      const started = Date.now();
      try {
        const report = await stage.run({ node, out, reports: stages });
        stages[stage.name] = report;
        const missed = report.barsMissed ?? [];
        // A missed bar fails the demo, but the model still runs: later stages go on and report their figures.
        if (missed.length > 0) {
          ok = false;
          out.note(`  ✗ ${stage.name}: ${missed.join('; ')}`);
        } else out.note(`  ✓ ${stage.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } catch (e) {
        ok = false;
        const err = toBaseError(e);
        stages[stage.name] = { error: err.toJSON() };
        out.note(`  ✗ ${stage.name}: ${err.message}`);
        if (err.code === 'INTERNAL' && e instanceof Error) log.error({ err: e }, 'demo stage failed');
        break; // later stages build on earlier ones
      }
    }
  } finally {
    await node.stop();
    if (options.keep) out.note(`Kept ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
  return { ok, stages };
}
