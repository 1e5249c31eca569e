/**
 * Stage "datanet": four contributors sign and submit planet facts to a new DataNet (with a duplicate, a row
 * carrying an e-mail address and a row that breaks the schema among them); a curator approves the facts and
 * rejects off-topic rows; the version is frozen, its Merkle root committed on chain, and one contribution's
 * inclusion proof is checked by the registry contract.
 */
import { DataNetRegistryArtifact, devAccount } from '../../../chain/index.js';
import { BaseError } from '../../../core/index.js';
import {
  addCuratorOnChain,
  commitVersionOnChain,
  createDataNetClient,
  createDataNetOnChain,
  parseRows,
  type SubmissionResult,
  signContributions,
  signReview,
} from '../../../datanets/index.js';
import { createNodeClient } from '../../../protocol/index.js';
import type { DemoStage } from '../context.js';
import { contributorFacts, planetSchema } from '../planets.js';

export const DEMO_ACCOUNTS = { contributors: [4, 5, 6, 7], owner: 8, curator: 9 } as const;
const OFF_TOPIC = [
  'What is the best pizza topping?',
  'Which football team will win the cup?',
  'Is tea better than coffee?',
  'What should I name my cat?',
];

export const dataNetStage: DemoStage = {
  name: 'datanet',
  async run({ node, out }) {
    const { clients, deployment } = node.chain;
    const registry = deployment.contracts.DataNetRegistry;
    const client = createDataNetClient(createNodeClient(node.api));
    const owner = devAccount(DEMO_ACCOUNTS.owner);
    const curator = devAccount(DEMO_ACCOUNTS.curator);
    const domain = { chainId: deployment.chainId, registry };

    const { dataNetId, metadata } = await createDataNetOnChain(clients, owner, registry, {
      name: 'Planet facts',
      description: 'Instruction/response facts about the planets of the solar system.',
      schema: planetSchema,
      license: { id: 'CC-BY-4.0' },
      policy: { pii: { default: 'redact' }, nearDuplicateThreshold: 0.9, maxRowBytes: 4096 },
    });
    await client.register(dataNetId, metadata);
    await addCuratorOnChain(clients, owner, registry, dataNetId, curator.address);
    const licenseId = (await client.get(dataNetId)).licenseId;
    out.note(`  DataNet ${dataNetId} "Planet facts" created on chain by ${owner.address}; curator ${curator.address}`);

    const results: SubmissionResult[] = [];
    let invalid = 0;
    let piiRedacted = 0;
    for (const [i, index] of DEMO_ACCOUNTS.contributors.entries()) {
      const contributor = devAccount(index);
      const rows: object[] = [...contributorFacts(i)];
      const [repeated] = contributorFacts(0);
      if (i === 1 && repeated) rows.push(repeated); // the same fact contributor 0 gave: a duplicate
      if (i === 2)
        rows.push({
          instruction: 'Who curates these facts?',
          response: 'Write to planets.curator@example.org with corrections.',
        });
      if (i === 3) rows.push({ instruction: 'What is the mass of Pluto?' }); // no response: breaks the schema
      const offTopic = OFF_TOPIC[i];
      if (offTopic) rows.push({ instruction: offTopic, response: 'Opinions differ.' });
      const bytes = new TextEncoder().encode(rows.map((r) => JSON.stringify(r)).join('\n'));
      const signed = await signContributions(parseRows(bytes, { format: 'jsonl' }).rows, {
        metadata,
        dataNetId,
        licenseId,
        signer: contributor,
        domain,
        source: `contributor-${i}.jsonl`,
      });
      invalid += signed.errors.length;
      const r = await client.submit(dataNetId, signed.submissions);
      piiRedacted += r.filter((x) => x.status === 'accepted' && x.redacted).length;
      results.push(...r);
      out.note(
        `  contributor ${contributor.address}: ${r.filter((x) => x.status === 'accepted').length} accepted of ${rows.length} rows`,
      );
    }
    const count = (s: SubmissionResult['status']) => results.filter((r) => r.status === s).length;

    // The curator approves the facts and rejects the off-topic rows.
    const pending = (await client.contributions(dataNetId, { status: 'pending', limit: 1000 })).items;
    const reviews = [];
    for (const c of pending) {
      const content = await client.content(c.id);
      const offTopic = typeof content.instruction === 'string' && OFF_TOPIC.includes(content.instruction);
      reviews.push(
        await signReview(curator, domain, {
          dataNetId,
          contributionId: c.id,
          approve: !offTopic,
          reason: offTopic ? 'off topic: not about the planets' : 'accurate fact',
        }),
      );
    }
    const decided = await client.review(dataNetId, reviews);
    const approved = decided.filter((d) => d.status === 'approved').length;
    const rejected = decided.filter((d) => d.status === 'rejected').length;
    out.note(`  curator approved ${approved}, rejected ${rejected} (off topic)`);

    const draft = await client.prepareVersion(dataNetId);
    const receipt = await commitVersionOnChain(clients, curator, registry, draft);
    const published = await client.version(dataNetId, draft.version);
    const onChain = await clients.public.readContract({
      address: registry,
      abi: DataNetRegistryArtifact.abi,
      functionName: 'getVersion',
      args: [dataNetId, BigInt(draft.version)],
    });
    const manifest = await client.manifest(dataNetId, draft.version);
    const [included] = manifest.contributions;
    if (!included) throw new BaseError('INTERNAL', `version ${draft.version} holds no contribution to prove`);
    const proof = await client.proof(included.id);
    out.note(
      `  version ${published.version} published: ${published.count} contributions, root ${published.root}, commit ${receipt.gasUsed} gas`,
    );

    return {
      dataNetId: dataNetId.toString(),
      version: published.version,
      root: published.root,
      onChainRoot: onChain.root,
      manifestCid: published.manifestCid,
      contributors: DEMO_ACCOUNTS.contributors.map((i) => devAccount(i).address),
      contributions: count('accepted'),
      approved,
      rejected,
      duplicates: count('duplicate') + count('already_submitted'),
      nearDuplicates: count('near_duplicate'),
      invalid,
      piiRedacted,
      commitGas: receipt.gasUsed.toString(),
      proofVerifiedOnChain: proof.verifiedOnChain && proof.verifiedOffline,
    };
  },
};
