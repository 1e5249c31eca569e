/**
 * Stage "attribution": the serving stage's paid answers, attributed by the node when they were served, are read
 * back (`GET /v1/attributions/:requestId`), checked against the hash their receipts signed, and recomputed here
 * from the DataNet version's public export — twice — as any auditor would: the same bytes every time.
 */

import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  type AttributionMethod,
  modelSpanTokenizer,
  PPM,
  runGamingCases,
  serializeAttribution,
  toPpm,
} from '../../../attribution/index.js';
import { BaseError } from '../../../core/index.js';
import { formatChat } from '../../../engine/index.js';
import { createNodeClient, openloraApi, settlementApi } from '../../../protocol/index.js';
import { createAttributionAudit } from '../../attribution-audit.js';
import { type DemoStage, reportOf } from '../context.js';
import { demoPayer } from '../payer.js';
import { DEMO_MODEL } from './factory.js';

/** What `tributary attribute --verify --json` prints: `verified` when every check passed (receipt, root, bytes). */
const cliVerdict = z.object({ verified: z.boolean(), matches: z.boolean(), matchesReceipt: z.boolean() });

/** The serving stage's paid answers. */
const servedAnswers = z.object({
  answers: z.array(z.object({ question: z.string(), answer: z.string(), requestId: z.string() })),
});

/** The repository's `bin/tributary.js` (this file sits four levels below the root in src/ and in dist/). */
const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'bin', 'tributary.js');

function verifyWithCli(api: string, a: { question: string; answer: string; requestId: string }): Promise<boolean> {
  const args = ['attribute', '--request', a.requestId, '--verify', '--message', a.question, '--text', a.answer];
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args, '--api', api, '--json'], (e, stdout) => {
      try {
        const r = cliVerdict.safeParse(JSON.parse(stdout));
        resolve(!e && r.success && r.data.verified && r.data.matches && r.data.matchesReceipt);
      } catch {
        resolve(false);
      }
    });
  });
}

export const attributionStage: DemoStage = {
  name: 'attribution',
  async run({ node, out, reports }) {
    const serving = reportOf(reports, 'serving', servedAnswers);
    const api = createNodeClient(node.api);
    // Two independent auditors, each with its own indexes and gradient scorer, from the node's public API only.
    const auditors = [createAttributionAudit(node.api), createAttributionAudit(node.api)];
    const totals = new Map<string, number>();
    let deterministic = true;
    let methods: AttributionMethod[] = [];
    try {
      for (const a of serving.answers) {
        const input = {
          requestId: a.requestId,
          prompt: formatChat([{ role: 'user', content: a.question }]),
          output: a.answer,
        };
        const audits = [];
        for (const auditor of auditors) audits.push(await auditor.verify(input));
        const [first] = audits;
        if (!first?.matchesReceipt)
          throw new BaseError('INTERNAL', `The attribution of ${a.requestId} does not match its signed receipt`, {
            details: { requestId: a.requestId },
          });
        for (const x of audits.filter((x) => !x.matches)) {
          const stored = serializeAttribution(x.stored);
          const at = x.firstDifference;
          out.note(
            `  ✗ ${a.requestId}: recomputed attribution differs from the node's at ${at}: ${stored.slice(Math.max(0, at - 40), at + 80)}`,
          );
        }
        deterministic &&= audits.every((x) => x.matches);
        methods = first.stored.methods;
        for (const [who, ppm] of Object.entries(first.stored.sharesPpm)) totals.set(who, (totals.get(who) ?? 0) + ppm);
        totals.set('unattributed', (totals.get('unattributed') ?? 0) + first.stored.unattributedPpm);
      }
    } finally {
      for (const auditor of auditors) await auditor.dispose();
    }
    // And once through the command anyone can run: `tributary attribute --request … --verify`.
    const first = serving.answers[0];
    const cliVerified = first ? await verifyWithCli(node.api, first) : false;
    if (!methods.includes('gradient'))
      throw new BaseError(
        'INTERNAL',
        'The demo model was trained with a gradient index, but its answers were not attributed by gradient',
        {
          details: { methods },
        },
      );

    // The answers' shares pooled (each answer counts equally), again as integers summing to a million.
    const pooled = toPpm(totals, PPM);
    const unattributedPpm = pooled.get('unattributed') ?? 0;
    pooled.delete('unattributed');
    const sharesPpm = Object.fromEntries([...pooled].sort((x, y) => y[1] - x[1]));
    const topContributor = Object.keys(sharesPpm)[0] ?? null;
    out.note(
      `  ${serving.answers.length} answers attributed; top contributor ${topContributor}, ${unattributedPpm} ppm unattributed`,
    );

    // Served with retrieval: passages of the DataNet go before the question, and the ones the answer uses earn.
    const payer = await demoPayer(node);
    const grounded = await createNodeClient(node.api, { fetch: payer.fetch }).call(openloraApi.createChatCompletion, {
      body: {
        model: DEMO_MODEL,
        max_tokens: 24,
        messages: [{ role: 'user', content: 'How many moons does Mars have?' }],
        retrieval: true,
      },
    });
    const cited = grounded.tributary.retrieved ?? [];
    const groundedAttribution = (
      await api.call(settlementApi.getAttribution, { params: { requestId: grounded.tributary.requestId } })
    ).attribution;
    const earning = new Set(groundedAttribution.contributions.map((c) => c.id));
    out.note(
      `  retrieval: ${cited.length} passages cited, ${cited.filter((c) => earning.has(c.id)).length} of them earn`,
    );
    // Six ways to game span payment (issue 12), through the production attributor with the node's tokenizer.
    const gaming = await runGamingCases(modelSpanTokenizer('bundled'));
    for (const c of gaming) out.note(`  ${c.held ? '✓' : '✗'} gaming case: ${c.name}`);
    const gamingCasesHeld = gaming.filter((c) => c.held).length;
    if (gamingCasesHeld !== gaming.length)
      throw new BaseError('INTERNAL', `${gaming.length - gamingCasesHeld} span gaming case(s) did not hold`, {
        details: { failed: gaming.filter((c) => !c.held) },
      });
    return {
      methods,
      requests: serving.answers.length,
      topContributor,
      sharesPpm,
      unattributedPpm,
      deterministic,
      cliVerified,
      retrieval: { cited: cited.length, citedEarning: cited.filter((c) => earning.has(c.id)).length },
      gamingCasesHeld,
      gamingCases: gaming,
    };
  },
};
