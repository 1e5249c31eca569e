import type { NodeUp } from '../../node/index.js';
import type { Output } from '../output.js';

/** What every demo stage gets: the running node (chain, deployment, database, API) and a way to narrate. */
export interface DemoContext {
  node: NodeUp;
  out: Output;
  /** Reports of the stages that already ran, for later stages that build on them. */
  reports: Record<string, unknown>;
}

export interface DemoStage {
  name: string;
  run(ctx: DemoContext): Promise<Record<string, unknown>>;
}
