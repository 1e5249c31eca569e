/**
 * The `tributary` command as users run it: the built bin, real processes, real ports.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { connectChain, devAccount, startAnvil } from '../src/chain/index.js';
import { bundledBaseModel } from '../src/engine/index.js';
import { tinyBaseGguf } from './fixtures/gguf.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'tributary.js');
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('TRIBUTARY_') && k !== 'DATABASE_URL'),
);

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...cleanEnv, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Started {
  child: ChildProcessByStdio<null, Readable, Readable>;
  json: Record<string, unknown>;
  stop(): Promise<number | null>;
}

/** Starts a long-running command and waits for its one JSON line. */
function start(args: string[]): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((r) => child.on('close', r));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line && stdout.includes('\n')) {
        resolve({
          child,
          json: JSON.parse(line) as Record<string, unknown>,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`exited ${code} before printing JSON: ${stderr}`)));
  });
}

async function rpcAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
    });
    return res.ok;
  } catch {
    return false;
  }
}

const dir = () => mkdtempSync(join(tmpdir(), 'tributary-cli-'));

/** anvil's dev key #9: any funded account works as a deployer on a real chain. */
const DEPLOYER_KEY = '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6';
/** Explicit owners of the insider allocations, which a chain given by --rpc requires. */
const BENEFICIARIES = {
  TRIBUTARY_TEAM_BENEFICIARY: devAccount(2).address,
  TRIBUTARY_INVESTOR_BENEFICIARY: devAccount(1).address,
  TRIBUTARY_LIQUIDITY_RECIPIENT: devAccount(3).address,
};

describe('tributary up', () => {
  it('starts chain, contracts, database and API; prints one JSON line; stops everything on SIGTERM; restarts on the same data', async () => {
    const dataDir = dir();
    const first = await start(['up', '--json', '--data-dir', dataDir, '--port', '0']);
    expect(Object.keys(first.json).sort()).toEqual(['api', 'chainId', 'contracts', 'dataDir', 'node', 'rpcUrl']);
    expect(first.json.dataDir).toBe(dataDir);
    const api = first.json.api as string;
    const rpcUrl = first.json.rpcUrl as string;
    const health = (await (await fetch(`${api}/health`)).json()) as { status: string };
    expect(health.status).toBe('ok');
    // The operator registers a base model of their own; the CLI reads the operator token from the data directory.
    const tiny = join(dataDir, 'Tiny-Base.gguf');
    writeFileSync(tiny, tinyBaseGguf(['a small test base model'], 1));
    const added = await run(['model', 'base', 'add', tiny, '--json', '--api', api, '--data-dir', dataDir]);
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({
      name: 'tiny-base',
      architecture: 'llama',
      fineTune: { ok: true },
    });
    const again = await run([
      'model',
      'base',
      'add',
      bundledBaseModel.path,
      '--name',
      'copy',
      '--api',
      api,
      '--data-dir',
      dataDir,
    ]);
    expect(again.code).toBe(5); // CONFLICT
    expect(again.stderr).toContain(`already registered as base model "${bundledBaseModel.name}"`);
    expect(again.stderr).not.toContain('    at ');
    const stranger = await run(['model', 'base', 'add', tiny, '--name', 'other', '--api', api], {
      TRIBUTARY_OPERATOR_TOKEN: 'not-the-token',
    });
    expect(stranger.code).not.toBe(0);
    expect(stranger.stderr).toContain("is for the node's operator");
    expect(await first.stop()).toBe(0);
    expect(await rpcAnswers(rpcUrl)).toBe(false); // anvil went down with it

    const second = await start(['up', '--json', '--data-dir', dataDir, '--port', '0']);
    expect(second.json.contracts).toEqual(first.json.contracts); // the deployment file was reused: chain state persisted
    const bases = await run(['model', 'base', 'list', '--json', '--api', second.json.api as string]);
    expect((JSON.parse(bases.stdout) as { items: { name: string }[] }).items.map((b) => b.name)).toEqual([
      bundledBaseModel.name,
      'tiny-base',
    ]);
    expect(await second.stop()).toBe(0);
  });

  it('reports a bad flag with the field, its source and exit code 3', async () => {
    const r = await run(['up', '--json', '--port', 'seventy', '--data-dir', dir()]);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout.trim())).toEqual({
      ok: false,
      error: {
        code: 'CONFIG_INVALID',
        message: 'Invalid port from flag --port: expected an integer from 0 to 65535, got "seventy"',
        details: { field: 'port', source: 'flag --port', value: 'seventy' },
        docs: 'docs/configuration.md',
      },
    });
    expect(r.stderr).toContain('error[CONFIG_INVALID]: Invalid port from flag --port');
  });

  it('attack: up --rpc refuses to deploy without explicit beneficiaries, naming the missing keys (exit 3)', async () => {
    // Not the embedded local chain (a fresh anvil of our own stands in for a real one): before the fix the team and
    // investor wallets and the liquidity went to the deployer, who then held every vote that exists.
    const anvil = await startAnvil();
    try {
      const dataDir = dir();
      const args = ['up', '--json', '--rpc', anvil.rpcUrl, '--data-dir', dataDir, '--port', '0'];
      const none = await run(args, { TRIBUTARY_DEPLOYER_KEY: DEPLOYER_KEY });
      expect(none.code).toBe(3);
      expect(JSON.parse(none.stdout.trim())).toEqual({
        ok: false,
        error: {
          code: 'CONFIG_INVALID',
          message: `Deploying to ${anvil.rpcUrl} needs explicit token beneficiaries, or the deployer would hold every vote that exists at deployment: set TRIBUTARY_TEAM_BENEFICIARY, TRIBUTARY_INVESTOR_BENEFICIARY and TRIBUTARY_LIQUIDITY_RECIPIENT, or "teamBeneficiary", "investorBeneficiary" and "liquidityRecipient" in the config file`,
          details: {
            fields: ['teamBeneficiary', 'investorBeneficiary', 'liquidityRecipient'],
            env: ['TRIBUTARY_TEAM_BENEFICIARY', 'TRIBUTARY_INVESTOR_BENEFICIARY', 'TRIBUTARY_LIQUIDITY_RECIPIENT'],
          },
          docs: 'docs/configuration.md',
        },
      });
      expect(none.stderr).toContain('error[CONFIG_INVALID]: Deploying to');
      // Only the missing ones are named; a config file counts as much as the environment.
      writeFileSync(join(dataDir, 'tributary.json'), JSON.stringify({ teamBeneficiary: devAccount(2).address }));
      const some = await run(args, {
        TRIBUTARY_DEPLOYER_KEY: DEPLOYER_KEY,
        TRIBUTARY_INVESTOR_BENEFICIARY: devAccount(2).address,
      });
      expect(some.code).toBe(3);
      expect((JSON.parse(some.stdout) as { error: { message: string } }).error.message).toBe(
        `Deploying to ${anvil.rpcUrl} needs explicit token beneficiaries, or the deployer would hold every vote that exists at deployment: set TRIBUTARY_LIQUIDITY_RECIPIENT, or "liquidityRecipient" in the config file`,
      );
      // One owner of both vesting wallets is refused too.
      const same = await run(args, {
        TRIBUTARY_DEPLOYER_KEY: DEPLOYER_KEY,
        TRIBUTARY_INVESTOR_BENEFICIARY: devAccount(2).address,
        TRIBUTARY_LIQUIDITY_RECIPIENT: devAccount(3).address,
      });
      expect(same.code).toBe(3);
      expect((JSON.parse(same.stdout) as { error: { message: string } }).error.message).toBe(
        `teamBeneficiary and investorBeneficiary are the same address ${devAccount(2).address}: one holder of both vesting wallets could pass proposals alone; name two different owners`,
      );
      // Nothing was deployed: no deployment file, no transaction from the deployer.
      expect(existsSync(join(dataDir, 'deployment.json'))).toBe(false);
      const clients = await connectChain(anvil.rpcUrl);
      expect(await clients.public.getTransactionCount({ address: devAccount(9).address })).toBe(0);
    } finally {
      await anvil.stop();
    }
  });

  it('exits 2 on an unknown command', async () => {
    const r = await run(['fly']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'fly'");
  });
});

describe('tributary chain up', () => {
  const anvils: { stop(): Promise<void> }[] = [];
  afterAll(async () => {
    await Promise.all(anvils.map((a) => a.stop()));
  });

  it('starts a local chain with the contracts and prints only the chain fields', async () => {
    const up = await start(['chain', 'up', '--json', '--data-dir', dir()]);
    expect(Object.keys(up.json).sort()).toEqual(['chainId', 'contracts', 'rpcUrl']);
    expect(Object.keys(up.json.contracts as object)).toEqual([
      'OpenToken',
      'Staking',
      'Governor',
      'Timelock',
      'DataNetRegistry',
      'ModelRegistry',
      'ProtocolConfig',
      'RewardDistributor',
      'InferenceEscrow',
    ]);
    expect(await up.stop()).toBe(0);
  });

  it('deploys to an existing chain given by --rpc with the deployer key from the environment', async () => {
    const anvil = await startAnvil();
    anvils.push(anvil);
    const dataDir = dir();
    const noKey = await run(['chain', 'up', '--json', '--rpc', anvil.rpcUrl, '--data-dir', dataDir]);
    expect(noKey.code).toBe(3);
    expect((JSON.parse(noKey.stdout) as { error: { message: string } }).error.message).toBe(
      `Deploying to ${anvil.rpcUrl} needs a deployer key: set TRIBUTARY_DEPLOYER_KEY or "deployerKey" in the config file`,
    );
    const r = await run(['chain', 'up', '--json', '--rpc', anvil.rpcUrl, '--data-dir', dataDir], {
      TRIBUTARY_DEPLOYER_KEY: DEPLOYER_KEY,
      ...BENEFICIARIES,
    });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { rpcUrl: string; chainId: number };
    expect(out).toMatchObject({ rpcUrl: anvil.rpcUrl, chainId: 31337 });
    // The insider allocations went to the configured owners, none to the deployer.
    const { allocations } = JSON.parse(readFileSync(join(dataDir, 'deployment.json'), 'utf8')) as {
      allocations: { label: string; beneficiary: string }[];
    };
    expect(Object.fromEntries(allocations.map((a) => [a.label, a.beneficiary]))).toEqual({
      community: expect.any(String),
      investors: BENEFICIARIES.TRIBUTARY_INVESTOR_BENEFICIARY,
      team: BENEFICIARIES.TRIBUTARY_TEAM_BENEFICIARY,
      liquidity: BENEFICIARIES.TRIBUTARY_LIQUIDITY_RECIPIENT,
    });
    // Second run finds the deployment file and reuses it.
    const again = await run(['chain', 'up', '--json', '--rpc', anvil.rpcUrl, '--data-dir', dataDir]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(JSON.parse(r.stdout));
  });

  it('refuses a data directory whose deployment is not on the given chain', async () => {
    const anvil = await startAnvil();
    anvils.push(anvil);
    const dataDir = dir();
    expect(
      (
        await run(['chain', 'up', '--rpc', anvil.rpcUrl, '--data-dir', dataDir], {
          TRIBUTARY_DEPLOYER_KEY: DEPLOYER_KEY,
          ...BENEFICIARIES,
        })
      ).code,
    ).toBe(0);
    const other = await startAnvil();
    anvils.push(other);
    const r = await run(['chain', 'up', '--json', '--rpc', other.rpcUrl, '--data-dir', dataDir]);
    expect(r.code).toBe(5);
    expect((JSON.parse(r.stdout) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'CHAIN_MISMATCH',
      message: expect.stringMatching(
        /does not contain the deployment's block .*point --rpc at its chain, or use a new --data-dir$/,
      ),
    });
  });
});

describe('tributary serve', () => {
  it('serves the models of an existing deployment from another data directory, and manages its adapters', async () => {
    const chainDir = dir();
    const chainUp = await start(['chain', 'up', '--json', '--data-dir', chainDir]);
    const noDeployment = await run([
      'serve',
      '--json',
      '--rpc',
      chainUp.json.rpcUrl as string,
      '--data-dir',
      dir(),
      '--port',
      '0',
    ]);
    expect(noDeployment.code).toBe(9);
    expect((JSON.parse(noDeployment.stdout) as { error: { code: string } }).error.code).toBe('DEPLOYMENT_INVALID');
    const serving = await start([
      'serve',
      '--json',
      '--rpc',
      chainUp.json.rpcUrl as string,
      '--deployment',
      join(chainDir, 'deployment.json'),
      '--data-dir',
      dir(),
      '--port',
      '0',
    ]);
    expect(serving.json.models).toEqual(['tributary-base-4m']);
    const api = serving.json.api as string;
    const chat = (await (
      await fetch(`${api}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'tributary-base-4m',
          max_tokens: 4,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      })
    ).json()) as { usage: { completion_tokens: number } };
    expect(chat.usage.completion_tokens).toBeGreaterThan(0);
    const listed = await run(['adapters', 'list', '--json', '--api', api]);
    expect(JSON.parse(listed.stdout)).toMatchObject({ loaded: [{ key: 'base', pinned: true }] });
    // A serving node runs no fine-tunes and no DataNet routes.
    expect((await fetch(`${api}/v1/factory/jobs`)).status).toBe(404);
    expect(await serving.stop()).toBe(0);
    expect(await chainUp.stop()).toBe(0);
  });
});

describe('tributary index / attribute (audits anyone can run)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-attr-'));
  const corpus = join(dir, 'corpus.jsonl');
  const rows = [
    ...Array.from({ length: 12 }, (_, k) => ({
      id: `b${k}`,
      contributor: '0xaa',
      text: `Entry ${k} of the shared archive.`,
    })),
    { id: 'f1', contributor: '0xbb', text: 'Marguerite repaired violins with glue made from quince seeds.' },
    ...Array.from({ length: 3 }, (_, k) => ({
      id: `p${k}`,
      contributor: '0xcc',
      text: 'The amber lamp flickered twice.',
    })),
  ];
  writeFileSync(corpus, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);

  it('builds an index, counts a phrase, and attributes a sentence to its contributor, byte-identically', async () => {
    const built = await run(['index', 'build', '--corpus', corpus, '--out', join(dir, 'idx'), '--json']);
    expect(built.code).toBe(0);
    expect(JSON.parse(built.stdout)).toMatchObject({ documents: 16, tokenizer: 'word-fnv1a-mod65535-v2' });
    const count = await run([
      'index',
      'count',
      '--index',
      join(dir, 'idx'),
      '--text',
      'amber lamp flickered',
      '--json',
    ]);
    expect(JSON.parse(count.stdout)).toEqual({ count: 3 });
    const args = ['attribute', '--corpus', corpus, '--text', 'So: Marguerite repaired violins with glue.', '--json'];
    const [a, b] = await Promise.all([run(args), run([...args, '--index', join(dir, 'idx')])]);
    expect(a.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    const r = JSON.parse(a.stdout) as { sharesPpm: Record<string, number>; unattributedPpm: number };
    expect(Object.keys(r.sharesPpm)).toEqual(['0xbb']);
    expect((r.sharesPpm['0xbb'] ?? 0) + r.unattributedPpm).toBe(1_000_000);
  });

  it('names the line and field of a bad corpus row, and refuses an index built with another tokenizer', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"id":"a","contributor":"0x1","text":"ok"}\n{"id":"b","text":"no contributor"}\n');
    const r = await run(['attribute', '--corpus', bad, '--text', 'ok', '--json']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`error[INVALID_ARGUMENT]: ${bad}:2: field "contributor" is missing`);
    await run(['index', 'build', '--corpus', corpus, '--out', join(dir, 'idx2'), '--json']);
    const other = await run(['index', 'count', '--index', join(dir, 'idx2'), '--text', 'amber', '--model', 'bundled']);
    expect(other.stderr).toContain('was built with tokenizer word-fnv1a-mod65535-v2, not bpe-sha256-');
    const verify = await run(['attribute', '--request', 'cmpl-1', '--verify', '--text', 'x']);
    expect(verify.stderr).toContain('To verify a served answer pass its --text and one of --message or --prompt');
    const gradient = await run(['attribute', '--corpus', corpus, '--text', 'x', '--method', 'gradient']);
    expect(gradient.stderr).toContain('The gradient method needs a model with stored per-example gradients');
  });
});

describe('tributary demo', () => {
  it('runs the loop on a fresh chain and ends with {"ok": true, "stages": …}', async () => {
    const r = await run(['demo', '--json']);
    expect(r.code).toBe(0);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as {
      ok: boolean;
      stages: {
        chain: Record<string, unknown>;
        attribution: {
          deterministic: boolean;
          cliVerified: boolean;
          sharesPpm: Record<string, number>;
          unattributedPpm: number;
        };
        settlement: Record<string, unknown>;
        adversarial: { attacks: Record<string, string> };
      };
    };
    expect(last.ok).toBe(true);
    expect(last.stages.adversarial.attacks).toEqual({
      unbondEscape: 'blocked',
      epochSquat: 'blocked',
      closeBeforeRedeem: 'blocked',
      claimBeyondTotal: 'blocked',
      strangerSpend: 'blocked',
    });
    const attribution = last.stages.attribution;
    expect(attribution.deterministic).toBe(true);
    expect(attribution.cliVerified).toBe(true);
    expect(Object.values(attribution.sharesPpm).reduce((a, b) => a + b, 0) + attribution.unattributedPpm).toBe(
      1_000_000,
    );
    expect(last.stages.settlement).toMatchObject({
      sumEqualsFees: true,
      verifiedByRecompute: true,
      tamperedExportRejected: true,
    });
    expect(last.stages.chain).toMatchObject({ chainId: 31337, totalSupply: '1000000000000000000000000000' });
    const slash = last.stages.chain.slashDemo as {
      staked: string;
      slashed: string;
      remaining: string;
      treasuryReceived: string;
    };
    expect(BigInt(slash.remaining)).toBe(BigInt(slash.staked) - BigInt(slash.slashed));
    expect(slash.treasuryReceived).toBe(slash.slashed);
  }, 600_000);
});
