/** The actions of `tributary datanet …` (the commands are defined in datanet.ts). */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type Address, getAddress, type Hex, isAddress, parseUnits } from 'viem';
import { z } from 'zod';
import { DataNetRegistryArtifact } from '../../chain/index.js';
import { BaseError, parseJson } from '../../core/index.js';
import {
  addCuratorOnChain,
  commitVersionOnChain,
  createDataNetClient,
  createDataNetOnChain,
  depositBondOnChain,
  forfeitBondOnChain,
  formatFromName,
  inputFormats,
  type PiiAction,
  type PiiKind,
  parseRows,
  piiKinds,
  type ReviewResult,
  type ReviewSubmission,
  removeCuratorOnChain,
  type SubmissionResult,
  signContributions,
  signedContributionOf,
  signReview,
  signWithdrawal,
} from '../../datanets/index.js';
import { bytes32 } from '../../protocol/index.js';
import { isJson } from '../options.js';
import { createOutput, type Output } from '../output.js';
import { createProgress } from '../progress.js';
import { connectRemote, type RemoteOptions, signerFrom } from '../remote.js';

const MAX_FILE_BYTES = 64 * 1024 * 1024;

function idArg(value: string, what = 'DataNet id'): bigint {
  if (!/^\d+$/.test(value))
    throw new BaseError('INVALID_ARGUMENT', `Invalid ${what} "${value}": expected a positive integer`, {
      details: { field: what },
    });
  return BigInt(value);
}

function hexIdArg(value: string): Hex {
  const id = bytes32.safeParse(value.toLowerCase());
  if (!id.success) {
    throw new BaseError(
      'INVALID_ARGUMENT',
      `Invalid contribution id "${value}": expected 0x followed by 64 hex digits`,
      { details: { field: 'contributionId' } },
    );
  }
  return id.data;
}

const jsonObject = z.record(z.string(), z.unknown());
const piiActions = ['reject', 'redact', 'allow'] as const;

function readSchema(value: string): Record<string, unknown> {
  const text = value.trim().startsWith('{') ? value : readFileSync(value, 'utf8');
  const parsed = parseJson(text);
  if (!parsed.ok) {
    throw new BaseError(
      'INVALID_ARGUMENT',
      `--schema is not valid JSON at line ${parsed.line}, column ${parsed.column}: ${parsed.reason}`,
      { details: { field: '--schema' } },
    );
  }
  const schema = jsonObject.safeParse(parsed.value);
  if (!schema.success || Array.isArray(parsed.value)) {
    throw new BaseError('INVALID_ARGUMENT', '--schema must be a JSON object (a JSON Schema)', {
      details: { field: '--schema' },
    });
  }
  return schema.data;
}

/** Files to read for `contribute`: files as given, directories recursively (known extensions), '-' for stdin. */
function expandInputs(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (p === '-') {
      out.push(p);
      continue;
    }
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch {
      throw new BaseError('NOT_FOUND', `No such file or directory: ${p}`, { details: { path: p } });
    }
    if (st.isDirectory()) {
      out.push(
        ...expandInputs(
          readdirSync(p)
            .sort()
            .map((n) => join(p, n))
            .filter((f) => statSync(f).isDirectory() || formatFromName(f) !== undefined),
        ),
      );
    } else out.push(p);
  }
  return out;
}

function summarize(results: SubmissionResult[]) {
  const count = (s: SubmissionResult['status']) => results.filter((r) => r.status === s).length;
  return {
    accepted: count('accepted'),
    alreadySubmitted: count('already_submitted'),
    duplicates: count('duplicate'),
    nearDuplicates: count('near_duplicate'),
    rejected: count('rejected'),
  };
}

export interface CreateOptions extends RemoteOptions {
  name: string;
  schema: string;
  license: string;
  description: string;
  pii?: string[];
  piiDefault: string;
  nearDuplicate: string;
  maxRowBytes: string;
  bond: string;
  forfeitBps: string;
  treasury?: string;
}

export async function create(o: CreateOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const owner = signerFrom(o);
  const remote = await connectRemote(o);
  const kinds: Partial<Record<PiiKind, PiiAction>> = {};
  for (const pair of o.pii ?? []) {
    const [k, a] = pair.split('=');
    const kind = piiKinds.find((x) => x === k);
    const action = piiActions.find((x) => x === a);
    if (!kind || !action) {
      throw new BaseError(
        'INVALID_ARGUMENT',
        `Invalid --pii "${pair}": expected KIND=ACTION with KIND one of ${piiKinds.join(', ')} and ACTION reject|redact|allow`,
        { details: { field: '--pii' } },
      );
    }
    kinds[kind] = action;
  }
  if (o.treasury !== undefined && !isAddress(o.treasury)) {
    throw new BaseError('INVALID_ARGUMENT', `Invalid --treasury "${o.treasury}": expected an address`, {
      details: { field: '--treasury' },
    });
  }
  const metadata = {
    name: o.name,
    description: o.description ?? '',
    schema: readSchema(o.schema),
    license: { id: o.license },
    policy: {
      pii: { default: o.piiDefault, kinds },
      nearDuplicateThreshold: Number(o.nearDuplicate),
      maxRowBytes: Number(o.maxRowBytes),
    },
  };
  const created = await createDataNetOnChain(remote.clients, owner, remote.contracts.DataNetRegistry, metadata, {
    bondAmount: parseUnits(o.bond, 18),
    forfeitBps: Number(o.forfeitBps),
    ...(o.treasury ? { treasury: getAddress(o.treasury) } : {}),
  });
  const d = await createDataNetClient(remote.api).register(created.dataNetId, created.metadata);
  out.result(
    { dataNetId: d.id, owner: d.owner, metadataCid: d.metadataCid, schemaHash: d.schemaHash, licenseId: d.licenseId },
    () =>
      `Created DataNet ${d.id} "${o.name}" owned by ${d.owner}\n  metadata ${d.metadataCid}\n  contribute: tributary datanet contribute ${d.id} FILE…`,
  );
}

export async function setCurator(id: string, action: string, address: string, o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  if (action !== 'add' && action !== 'remove')
    throw new BaseError('INVALID_ARGUMENT', `Expected "add" or "remove", got "${action}"`, {
      details: { field: 'action' },
    });
  if (!isAddress(address))
    throw new BaseError('INVALID_ARGUMENT', `Invalid curator address "${address}"`, {
      details: { field: 'address' },
    });
  const remote = await connectRemote(o);
  const owner = signerFrom(o);
  const registry = remote.contracts.DataNetRegistry;
  const receipt =
    action === 'add'
      ? await addCuratorOnChain(remote.clients, owner, registry, idArg(id), getAddress(address))
      : await removeCuratorOnChain(remote.clients, owner, registry, idArg(id), getAddress(address));
  out.result(
    { dataNetId: id, curator: getAddress(address), action, txHash: receipt.transactionHash },
    () => `${action === 'add' ? 'Added' : 'Removed'} curator ${getAddress(address)}`,
  );
}

export interface ContributeOptions extends RemoteOptions {
  format?: string;
  split: string;
  batch: string;
}

export async function contribute(id: string, paths: string[], o: ContributeOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const dataNetId = idArg(id);
  const givenFormat = inputFormats.find((f) => f === o.format);
  if (o.format !== undefined && !givenFormat) {
    throw new BaseError(
      'INVALID_ARGUMENT',
      `Invalid --format "${o.format}": expected one of ${inputFormats.join(', ')}`,
      { details: { field: '--format' } },
    );
  }
  const split = o.split === 'document' || o.split === 'paragraph' ? o.split : undefined;
  if (!split)
    throw new BaseError('INVALID_ARGUMENT', `Invalid --split "${o.split}": expected document or paragraph`, {
      details: { field: '--split' },
    });
  const batch = Math.min(1000, Math.max(1, Number(o.batch) || 500));
  const signer = signerFrom(o);
  const remote = await connectRemote(o);
  const client = createDataNetClient(remote.api);
  const d = await client.get(dataNetId);
  if (!d.metadata)
    throw new BaseError('CONFLICT', `DataNet ${id} has no registered metadata yet`, { details: { dataNetId: id } });
  const domain = { chainId: remote.chainId, registry: remote.contracts.DataNetRegistry };
  const errors: { source: string; line: number; reason: string; message: string }[] = [];
  const results: (SubmissionResult & { source: string })[] = [];
  for (const path of expandInputs(paths.length > 0 ? paths : ['-'])) {
    const bytes = path === '-' ? readFileSync(0) : readFileSync(path);
    const source = path === '-' ? 'stdin' : path;
    if (bytes.length > MAX_FILE_BYTES) {
      errors.push({
        source,
        line: 0,
        reason: 'size',
        message: `${source} is ${bytes.length} bytes, over the limit of ${MAX_FILE_BYTES}; split it`,
      });
      continue;
    }
    const format = givenFormat ?? (path === '-' ? 'jsonl' : formatFromName(path));
    if (!format) {
      errors.push({
        source,
        line: 0,
        reason: 'format',
        message: `cannot tell the format of ${source}; pass --format`,
      });
      continue;
    }
    const parsed = parseRows(bytes, { format, split });
    for (const e of parsed.errors) errors.push({ source, ...e });
    const signed = await signContributions(parsed.rows, {
      metadata: d.metadata,
      dataNetId,
      licenseId: d.licenseId,
      signer,
      domain,
      source,
    });
    for (const e of signed.errors) errors.push({ source, ...e });
    const progress = createProgress(source, signed.submissions.length, !out.json);
    for (let i = 0; i < signed.submissions.length; i += batch) {
      const chunk = signed.submissions.slice(i, i + batch);
      const r = await client.submit(dataNetId, chunk);
      for (const x of r) results.push({ ...x, source: `${source}:${signed.lines[i + x.index]}` });
      progress.update(i + chunk.length);
    }
    progress.finish();
  }
  for (const r of results)
    if (r.status === 'rejected')
      errors.push({
        source: r.source.replace(/:\d+$/, ''),
        line: Number(r.source.split(':').pop()),
        reason: r.reason ?? 'rejected',
        message: r.message ?? '',
      });
  errors.sort((a, b) => a.source.localeCompare(b.source) || a.line - b.line);
  const summary = {
    dataNetId: id,
    contributor: signer.address,
    ...summarize(results),
    piiRedacted: results.filter((r) => r.status === 'accepted' && r.redacted).length,
    refusedBeforeSending: errors.length - results.filter((r) => r.status === 'rejected').length,
    errors,
    results,
  };
  printContribution(out, summary, results);
  if (summary.accepted + summary.alreadySubmitted === 0 && errors.length > 0) process.exitCode = 2;
}

export interface ReviewOptions extends RemoteOptions {
  approve?: string[];
  reject?: string[];
  approveAll?: boolean;
  reason: string;
  spam?: boolean;
}

export async function review(id: string, o: ReviewOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const dataNetId = idArg(id);
  const remote = await connectRemote(o);
  const client = createDataNetClient(remote.api);
  const decisions: { id: Hex; approve: boolean }[] = [
    ...(o.approve ?? []).map((x) => ({ id: hexIdArg(x), approve: true })),
    ...(o.reject ?? []).map((x) => ({ id: hexIdArg(x), approve: false })),
  ];
  if (o.approveAll) {
    let after: string | undefined;
    for (;;) {
      const page = await client.contributions(dataNetId, {
        status: 'pending',
        limit: 1000,
        ...(after ? { after } : {}),
      });
      decisions.push(...page.items.map((c) => ({ id: c.id, approve: true })));
      if (!page.next || page.items.length < 1000) break;
      after = page.next;
    }
  }
  if (decisions.length === 0) {
    const queue = await client.contributions(dataNetId, { status: 'pending', limit: 100 });
    out.result({ pending: queue.items }, () =>
      queue.items.length === 0
        ? 'No contributions are waiting for review.'
        : queue.items.map((c) => `${c.id}  ${c.contributor}  ${c.source ?? ''}`).join('\n'),
    );
    return;
  }
  const curator = signerFrom(o);
  const domain = { chainId: remote.chainId, registry: remote.contracts.DataNetRegistry };
  const reviews: ReviewSubmission[] = [];
  for (const dcs of decisions)
    reviews.push(
      await signReview(curator, domain, {
        dataNetId,
        contributionId: dcs.id,
        approve: dcs.approve,
        spam: !dcs.approve && o.spam === true,
        reason: o.reason,
      }),
    );
  const results: ReviewResult[] = [];
  for (let i = 0; i < reviews.length; i += 1000)
    results.push(...(await client.review(dataNetId, reviews.slice(i, i + 1000))));
  const refused = results.filter((r) => r.status === 'refused');
  // Spam rejections forfeit part of the contributor's bond on chain, when the DataNet asks for bonds: the
  // registry checks the contributor's own signature of the contribution, and forfeits each one only once.
  const forfeited: { contributionId: string; contributor: Address; txHash: Hex }[] = [];
  const d = await client.get(dataNetId);
  if (o.spam && d.bondAmount > 0n) {
    const registry = { address: remote.contracts.DataNetRegistry, abi: DataNetRegistryArtifact.abi };
    for (const r of results.filter((x) => x.status === 'rejected')) {
      const c = await client.contribution(hexIdArg(r.contributionId));
      const [bonded, spent] = await Promise.all([
        remote.clients.public.readContract({
          ...registry,
          functionName: 'bondOf',
          args: [dataNetId, c.contributor],
        }),
        remote.clients.public.readContract({
          ...registry,
          functionName: 'isForfeited',
          args: [dataNetId, c.contributor, c.contentHash],
        }),
      ]);
      if (bonded === 0n || spent) continue;
      const receipt = await forfeitBondOnChain(
        remote.clients,
        curator,
        registry.address,
        dataNetId,
        signedContributionOf(c),
        o.reason,
      );
      forfeited.push({ contributionId: c.id, contributor: c.contributor, txHash: receipt.transactionHash });
    }
  }
  out.result(
    {
      approved: results.filter((r) => r.status === 'approved').length,
      rejected: results.filter((r) => r.status === 'rejected').length,
      refused,
      forfeited,
    },
    () =>
      [
        `Approved ${results.filter((r) => r.status === 'approved').length}, rejected ${results.filter((r) => r.status === 'rejected').length}`,
        ...forfeited.map((f) => `  forfeited bond of ${f.contributor} for ${f.contributionId} (tx ${f.txHash})`),
        ...refused.map((r) => `  refused ${r.contributionId}: ${r.message}`),
      ].join('\n'),
  );
  if (refused.length > 0) process.exitCode = 6;
}

export async function publish(id: string, o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const dataNetId = idArg(id);
  const remote = await connectRemote(o);
  const client = createDataNetClient(remote.api);
  const curator = signerFrom(o);
  const draft = await client.prepareVersion(dataNetId);
  out.note(`Version ${draft.version}: ${draft.count} contributions, root ${draft.root}; committing on chain …`);
  const receipt = await commitVersionOnChain(remote.clients, curator, remote.contracts.DataNetRegistry, draft);
  const published = await client.version(dataNetId, draft.version);
  out.result(
    { ...published, txHash: receipt.transactionHash, gasUsed: receipt.gasUsed.toString() },
    () =>
      `Published version ${published.version} of DataNet ${id}: ${published.count} contributions\n  root ${published.root}\n  manifest ${published.manifestCid}\n  tx ${receipt.transactionHash} (${receipt.gasUsed} gas)`,
  );
}

export async function show(id: string, o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const client = createDataNetClient((await connectRemote(o)).api);
  const [d, versions] = await Promise.all([client.get(idArg(id)), client.versions(idArg(id))]);
  out.result({ ...d, versions }, () =>
    [
      `DataNet ${d.id}: ${d.metadata?.name ?? '(metadata not registered)'}`,
      `  owner ${d.owner}; curators ${d.curators.join(', ') || 'none'}`,
      `  license ${d.metadata?.license.id ?? d.licenseId}; bond ${d.bondAmount} wei`,
      `  contributions: ${Object.entries(d.counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')}`,
      ...versions.map((v) => `  version ${v.version} (${v.status}): ${v.count} contributions, root ${v.root}`),
    ].join('\n'),
  );
}

export interface ExportOptions extends RemoteOptions {
  version: string;
  out?: string;
}

export async function exportVersion(id: string, o: ExportOptions, cmd: Command) {
  const client = createDataNetClient((await connectRemote(o)).api);
  const text = await client.exportVersion(idArg(id), Number(idArg(o.version, 'version')));
  if (o.out) {
    writeFileSync(o.out, text);
    createOutput(isJson(cmd)).result(
      { file: o.out, rows: text.split('\n').filter(Boolean).length },
      () => `Wrote ${o.out}`,
    );
  } else process.stdout.write(text);
}

export interface ProofOptions extends RemoteOptions {
  version?: string;
}

export async function proof(cid: string, o: ProofOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const client = createDataNetClient((await connectRemote(o)).api);
  const p = await client.proof(hexIdArg(cid), o.version ? Number(idArg(o.version, 'version')) : undefined);
  out.result(p, () =>
    [
      `Contribution ${p.contributionId} is in version ${p.version} of DataNet ${p.dataNetId} (root ${p.root})`,
      `  contributor ${p.contributor}; content hash ${p.contentHash}`,
      `  proof: ${p.proof.length} hashes; verified offline: ${p.verifiedOffline}; verified by the contract: ${p.verifiedOnChain}`,
    ].join('\n'),
  );
  if (!p.verifiedOffline || !p.verifiedOnChain) process.exitCode = 1;
}

export async function withdraw(cid: string, o: RemoteOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const remote = await connectRemote(o);
  const client = createDataNetClient(remote.api);
  const id = hexIdArg(cid);
  const c = await client.contribution(id);
  const signer = signerFrom(o);
  const domain = { chainId: remote.chainId, registry: remote.contracts.DataNetRegistry };
  const w = await client.withdraw(
    id,
    await signWithdrawal(signer, domain, { dataNetId: c.dataNetId, contributionId: id }),
  );
  out.result(
    w,
    () =>
      `Withdrew ${w.contributionId}: content deleted; absent from version ${w.absentFromVersion} on${w.lastVersionContaining ? ` (versions up to ${w.lastVersionContaining} keep its leaf)` : ''}`,
  );
}

export interface BondOptions extends RemoteOptions {
  deposit: string;
}

export async function bond(id: string, o: BondOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const remote = await connectRemote(o);
  const signer = signerFrom(o);
  const amount = parseUnits(o.deposit, 18);
  const receipt = await depositBondOnChain(
    remote.clients,
    signer,
    remote.contracts.OpenToken,
    remote.contracts.DataNetRegistry,
    idArg(id),
    amount,
  );
  out.result(
    { dataNetId: id, deposited: amount.toString(), txHash: receipt.transactionHash },
    () => `Bonded ${o.deposit} OPEN to DataNet ${id}`,
  );
}

function printContribution(
  out: Output,
  summary: ReturnType<typeof summarize> & {
    errors: { source: string; line: number; reason: string; message: string }[];
    dataNetId: string;
    piiRedacted: number;
  },
  results: (SubmissionResult & { source: string })[],
) {
  out.result(summary, () =>
    [
      `DataNet ${summary.dataNetId}: ${summary.accepted} accepted (${summary.piiRedacted} with personal data redacted), ${summary.alreadySubmitted} already submitted, ${summary.duplicates} duplicates, ${summary.nearDuplicates} near duplicates, ${summary.errors.length} refused`,
      ...results
        .filter((r) => r.status === 'duplicate' || r.status === 'near_duplicate')
        .map((r) => `  ${r.status}: ${r.source} ${r.message ?? ''}`),
      ...summary.errors.map(
        (e) =>
          `  refused ${e.source}${e.line ? `:${e.line}` : ''} (${e.reason}): ${e.message.replace(/^line \d+: /, '')}`,
      ),
    ].join('\n'),
  );
}
