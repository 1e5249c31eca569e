import type { z } from 'zod';
import { BaseError } from '../../core/index.js';
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
  /** The stage's figures; `barsMissed` names each outcome short of its bar (the demo then fails, figures kept). */
  run(ctx: DemoContext): Promise<Record<string, unknown> & { barsMissed?: string[] }>;
}

/** The bars an outcome misses: each `[holds, what]` whose `holds` is false, as its `what`. */
export function barsMissed(bars: readonly [boolean, string][]): string[] {
  return bars.filter(([holds]) => !holds).map(([, what]) => what);
}

/** The report of an earlier stage, read with the part of its shape a later stage builds on. */
export function reportOf<S extends z.ZodType>(reports: Record<string, unknown>, stage: string, shape: S): z.output<S> {
  const r = shape.safeParse(reports[stage]);
  if (!r.success)
    throw new BaseError('INTERNAL', `The report of the ${stage} stage lacks what later stages build on`, {
      details: { stage, issues: r.error.issues.slice(0, 5) },
    });
  return r.data;
}
