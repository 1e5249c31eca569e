/**
 * `npm run bench -- <suite>`: runs one benchmark suite; each prints JSON lines on stdout
 * (`{"suite": "...", ...}`), with its baseline measured in the same run.
 */
const suites: Record<string, { describe: string; load: () => Promise<{ run(): Promise<void> }> }> = {
  'attribution-quality': {
    describe:
      'PoA quality of what is paid: P@1 (planted, paraphrased, hard; 5 seeds, CIs) and LDS (100 retrains, signed and paid) of combined, span, gradient, rag vs BM25, TracIn, random',
    load: () => import('./attribution-quality.js'),
  },
  'attribution-replay': {
    describe:
      'attribution runtime per answer: first call, export unchanged, after a withdrawal, vs parsing and hashing the export',
    load: () => import('./attribution-replay.js'),
  },
  'cli-startup': {
    describe: 'tributary --version and --help: best/median ms of the process, with node -e 0 as baseline',
    load: () => import('./cli-startup.js'),
  },
  context: {
    describe: "the bundled base's loss by position band at the serving context (512) vs its trained 128 positions",
    load: () => import('./context.js'),
  },
  gas: {
    describe: 'gas per protocol operation (token, staking, governance), with a plain ETH transfer as baseline',
    load: () => import('./gas.js'),
  },
  ingest: {
    describe:
      'DataNet contributions/s through the whole pipeline (PGlite, Postgres) and gas per contribution per version commit',
    load: () => import('./ingest.js'),
  },
  settlement: {
    describe:
      'gas to redeem, post an epoch (10 vs 10,000 payees) and claim, vs a transfer per payee; closing 100k receipts',
    load: () => import('./settlement.js'),
  },
  serving: {
    describe:
      'OpenLoRA with 1,000 adapters: memory vs merged models, cold/warm load ms, tokens/s single vs 100-adapter mix vs naive',
    load: () => import('./serving.js'),
  },
  'span-index': {
    describe: 'span index: SA-IS build tokens/s vs naive prefix doubling, bytes/token, RSS, count µs and trace ms',
    load: () => import('./span-index.js'),
  },
  train: {
    describe:
      'LoRA fine-tuning per shape (bundled, smollm-135m; --shape NAME for one): tokens/s, ms/step, MFU vs in-run matmul',
    load: () => import('./train.js'),
  },
};

const name = process.argv[2];
const suite = name ? suites[name] : undefined;
if (!suite) {
  process.stderr.write(
    `${name ? `Unknown bench suite "${name}". ` : ''}Usage: npm run bench -- <suite>\nSuites:\n${Object.entries(suites)
      .map(([k, v]) => `  ${k.padEnd(12)} ${v.describe}`)
      .join('\n')}\n`,
  );
  process.exit(2);
}
await (await suite.load()).run();
