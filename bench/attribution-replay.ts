/**
 * The cost of keeping attribution current with withdrawals: the node's attribution runtime reads a DataNet
 * version's export for every answer, so that a withdrawal takes effect on the next one. Per corpus size (rows of
 * about 230 characters), in one run: the first call of `runtime.corpus()` (parse, corpusHash, span and BM25 index
 * built in memory), a call with the export unchanged (what almost every answer costs), the first call after one
 * row is withdrawn (a new row set: parsed and indexed again) — the export read as a new string each time, joined
 * from its lines as the node's reader does, without the node's database and blob reads — and as baseline parsing the export and hashing its
 * live rows on their own (what each answer would cost if the row set were recomputed every time). Best of
 * ATTRIBUTION_REPLAY_RUNS (default 5) for the repeated call and the baseline. One JSON line per size.
 */

import { corpusHashOf, createAttributionCache, createAttributionRuntime } from '../src/attribution/index.js';
import { parseVersionExport } from '../src/protocol/index.js';
import { pinnedExport } from '../test/fixtures/pinned-export.js';

const contributor = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' as const;
const round = (x: number) => Math.round(x * 100) / 100;

async function timed(f: () => unknown): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

async function best(runs: number, f: () => unknown): Promise<number> {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) min = Math.min(min, await timed(f));
  return min;
}

export async function run(): Promise<void> {
  const runs = Number(process.env.ATTRIBUTION_REPLAY_RUNS ?? 5);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('attribution-replay: ATTRIBUTION_REPLAY_RUNS must be >= 1');
  const cache = createAttributionCache();
  for (const size of [100, 1_000, 10_000]) {
    const rows = Array.from({ length: size }, (_, i) => ({
      contributor,
      text: `Row ${i} of the corpus: ${'words the contributors wrote about their town and its lighthouse '.repeat(3)}`,
    }));
    const now = pinnedExport(7n, rows);
    const afterWithdrawal = pinnedExport(7n, rows, new Map([[0, new Date('2026-01-01T00:00:00Z')]]));
    // A new string on every read, joined from lines, as the node's export reader makes it.
    const linesOf = (text: string) => text.split(/(?<=\n)/);
    const exported = { lines: linesOf(now.text) };
    const runtime = createAttributionRuntime({
      cache,
      readExport: async () => exported.lines.join(''),
      readBlob: async () => null,
    });
    const dataNet = { id: '7', version: size, root: now.root };
    const firstMs = await timed(() => runtime.corpus(dataNet));
    const unchangedMs = await best(runs, () => runtime.corpus(dataNet));
    exported.lines = linesOf(afterWithdrawal.text);
    const afterWithdrawalMs = await timed(() => runtime.corpus(dataNet));
    const baselineMs = await best(runs, () =>
      corpusHashOf(parseVersionExport(now.text, 'export').map((r) => ({ ...r, text: r.text }))),
    );
    console.log(
      JSON.stringify({
        suite: 'attribution-replay',
        rows: size,
        exportBytes: now.text.length,
        firstMs: round(firstMs),
        unchangedMs: round(unchangedMs),
        afterWithdrawalMs: round(afterWithdrawalMs),
        baselineParseAndHashMs: round(baselineMs),
      }),
    );
  }
}
