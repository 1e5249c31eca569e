/**
 * DataNet ingest: contributions per second through the node's whole pipeline (schema, normalization, PII,
 * hashing, signature, nonce, exact and near duplicates, blob and database writes) on PGlite and, when
 * DATABASE_URL is set, on Postgres; the in-run baseline is the same pipeline fed one row per call. Then the gas
 * per contribution of committing a 1,000-contribution version, against storing each row on chain.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HDAccount } from 'viem';
import {
  type ChainClients,
  connectChain,
  type Deployment,
  defaultDeployParameters,
  deployContract,
  deployProtocol,
  devAccount,
  OnChainRowsBaselineArtifact,
  sendTx,
  startAnvil,
} from '../src/chain/index.js';
import { keccak256 } from '../src/core/index.js';
import {
  commitVersionOnChain,
  createDataNetOnChain,
  createDataNetService,
  parseRows,
  type Submission,
  signContributions,
  signReview,
} from '../src/datanets/index.js';
import { createFsBlobStore, type Db, migrate, migrations, openPglite, openPostgres } from '../src/store/index.js';

const ROWS = 2000;
const BATCH = 500;
const UNBATCHED = 200;
const VERSION_SIZE = 1000;

/** Deterministic pseudo-random sentences: text-like rows that are not near duplicates of each other. */
function makeRows(n: number, seed: number): object[] {
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const syll = ['ka', 'lo', 'mi', 'ra', 'te', 'su', 'no', 'vi', 'de', 'pa', 'zu', 'el', 'or', 'an', 'is', 'ub'];
  const word = () =>
    Array.from({ length: 2 + Math.floor(rand() * 3) }, () => syll[Math.floor(rand() * syll.length)]).join('');
  const sentence = (k: number) => Array.from({ length: k }, word).join(' ');
  return Array.from({ length: n }, () => ({ instruction: `${sentence(6)}?`, response: `${sentence(24)}.` }));
}

const schema = {
  type: 'object',
  required: ['instruction', 'response'],
  properties: { instruction: { type: 'string' }, response: { type: 'string' } },
  additionalProperties: false,
};

async function newDataNet(clients: ChainClients, deployment: Deployment, owner: HDAccount, name: string) {
  return createDataNetOnChain(clients, owner, deployment.contracts.DataNetRegistry, {
    name,
    schema,
    license: { id: 'CC-BY-4.0' },
    policy: { pii: { default: 'redact' }, nearDuplicateThreshold: 0.85, maxRowBytes: 65_536 },
  });
}

async function sign(
  rows: object[],
  contributors: HDAccount[],
  o: Omit<Parameters<typeof signContributions>[1], 'signer'>,
): Promise<Submission[]> {
  const parsed = parseRows(new TextEncoder().encode(rows.map((r) => JSON.stringify(r)).join('\n')), {
    format: 'jsonl',
  }).rows;
  const out: Submission[] = [];
  const share = Math.ceil(parsed.length / contributors.length);
  for (const [i, signer] of contributors.entries())
    out.push(...(await signContributions(parsed.slice(i * share, (i + 1) * share), { ...o, signer })).submissions);
  return out;
}

export async function run(): Promise<void> {
  const anvil = await startAnvil();
  try {
    const clients = await connectChain(anvil.rpcUrl);
    const deployer = devAccount(0);
    const deployment = await deployProtocol({
      clients,
      deployer,
      parameters: defaultDeployParameters({ deployer: deployer.address }),
    });
    const owner = devAccount(8);
    const contributors = [4, 5, 6, 7].map(devAccount);
    const domain = { chainId: deployment.chainId, registry: deployment.contracts.DataNetRegistry };
    const backends: { name: 'pglite' | 'postgres'; open(): Promise<Db> }[] = [
      { name: 'pglite', open: () => openPglite(join(mkdtempSync(join(tmpdir(), 'bench-ingest-')), 'db')) },
    ];
    if (process.env.DATABASE_URL) {
      const url = process.env.DATABASE_URL;
      backends.push({
        name: 'postgres',
        open: () => openPostgres({ url, schema: `bench_${Date.now().toString(36)}` }),
      });
    }

    for (const [b, backend] of backends.entries()) {
      const db = await backend.open();
      await migrate(db, migrations);
      const service = createDataNetService({
        db,
        clients,
        deployment,
        blobs: createFsBlobStore(mkdtempSync(join(tmpdir(), 'bench-blobs-'))),
      });

      const main = await newDataNet(clients, deployment, owner, `bench ${backend.name}`);
      await service.register(main.dataNetId, main.metadata);
      const licenseId = (await service.get(main.dataNetId)).licenseId;
      const submissions = await sign(makeRows(ROWS, 1 + b), contributors, {
        metadata: main.metadata,
        dataNetId: main.dataNetId,
        licenseId,
        domain,
      });
      let accepted = 0;
      const t0 = performance.now();
      for (let i = 0; i < submissions.length; i += BATCH) {
        accepted += (await service.submit(main.dataNetId, submissions.slice(i, i + BATCH))).filter(
          (r) => r.status === 'accepted',
        ).length;
      }
      const seconds = (performance.now() - t0) / 1000;

      // Baseline: the same pipeline, one row per call (one transaction per row).
      const side = await newDataNet(clients, deployment, owner, `bench ${backend.name} unbatched`);
      await service.register(side.dataNetId, side.metadata);
      const sideSubs = await sign(makeRows(UNBATCHED, 100 + b), contributors, {
        metadata: side.metadata,
        dataNetId: side.dataNetId,
        licenseId,
        domain,
      });
      const u0 = performance.now();
      for (const s of sideSubs) await service.submit(side.dataNetId, [s]);
      const unbatchedSeconds = (performance.now() - u0) / 1000;

      process.stdout.write(
        `${JSON.stringify({
          suite: 'ingest',
          backend: backend.name,
          contributions: accepted,
          contributionsPerSec: Math.round(accepted / seconds),
          batch: BATCH,
          unbatchedContributionsPerSec: Math.round(sideSubs.length / unbatchedSeconds),
        })}\n`,
      );

      if (b === 0) {
        // Gas: commit a version of exactly VERSION_SIZE contributions, against one row per transaction.
        const pending = (await service.contributions(main.dataNetId, { status: 'pending', limit: VERSION_SIZE })).items;
        const reviews = [];
        for (const c of pending)
          reviews.push(
            await signReview(owner, domain, {
              dataNetId: main.dataNetId,
              contributionId: c.id,
              approve: true,
              reason: 'bench',
            }),
          );
        await service.review(main.dataNetId, reviews);
        const draft = await service.prepareVersion(main.dataNetId);
        const receipt = await commitVersionOnChain(clients, owner, deployment.contracts.DataNetRegistry, {
          ...draft,
          dataNetId: draft.dataNetId.toString(),
          committedBlock: null,
        });
        const baseline = await deployContract(clients, deployer, OnChainRowsBaselineArtifact, []);
        let baselineGas = 0n;
        const samples = 20;
        for (let i = 0; i < samples; i++) {
          const r = await sendTx(clients, contributors[i % contributors.length] as HDAccount, {
            address: baseline.address,
            abi: OnChainRowsBaselineArtifact.abi,
            functionName: 'addRow',
            args: [main.dataNetId, keccak256(`row ${i}`)],
          });
          baselineGas += r.gasUsed;
        }
        process.stdout.write(
          `${JSON.stringify({
            suite: 'ingest',
            metric: 'gas',
            contributions: draft.count,
            commitGas: Number(receipt.gasUsed),
            gasPerContribution: Math.round(Number(receipt.gasUsed) / draft.count),
            baselineGasPerContribution: Math.round(Number(baselineGas) / samples),
          })}\n`,
        );
      }
      await db.close();
    }
  } finally {
    await anvil.stop();
  }
}
