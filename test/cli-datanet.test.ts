/**
 * `tributary datanet …` as users run it, against a running `tributary up`: create with a bond, contribute from
 * files (with errors named by file and line), review with a spam rejection that forfeits a bond on chain,
 * publish, prove, export, withdraw.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '..', 'bin', 'tributary.js');
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('TRIBUTARY_') && k !== 'DATABASE_URL'),
);
let node: ChildProcessByStdio<null, Readable, Readable>;
let api = '';

function cli(
  args: string[],
  input?: string,
): Promise<{ code: number | null; json: Record<string, unknown>; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args, '--json', '--api', api], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(last) as Record<string, unknown>;
      } catch {
        // not JSON (e.g. an export)
      }
      resolve({ code, json, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  node = spawn(
    process.execPath,
    [BIN, 'up', '--json', '--data-dir', mkdtempSync(join(tmpdir(), 'cli-dn-')), '--port', '0'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  api = await new Promise<string>((resolve, reject) => {
    let out = '';
    node.stdout.on('data', (d: Buffer) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && out.includes('\n')) resolve((JSON.parse(line) as { api: string }).api);
    });
    node.on('close', (code) => reject(new Error(`tributary up exited ${code}`)));
  });
});

afterAll(() => {
  node?.kill('SIGTERM');
});

describe('tributary datanet', () => {
  it('runs a DataNet from creation to withdrawal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-dn-files-'));
    const schema = join(dir, 'schema.json');
    writeFileSync(
      schema,
      JSON.stringify({
        type: 'object',
        required: ['term', 'gloss'],
        properties: { term: { type: 'string' }, gloss: { type: 'string' } },
      }),
    );
    const created = await cli([
      'datanet',
      'create',
      '--name',
      'Glossary',
      '--schema',
      schema,
      '--license',
      'CC-BY-4.0',
      '--bond',
      '5',
      '--forfeit-bps',
      '2000',
      '--dev-account',
      '8',
    ]);
    expect(created.code).toBe(0);
    const id = created.json.dataNetId as string;

    // Contributor 4 has no bond yet: everything is refused with the reason.
    const good = join(dir, 'glossary.csv');
    writeFileSync(
      good,
      'term,gloss\norbit,the path of one body around another\nzenith,the point directly overhead\nnadir,the point directly below\n',
    );
    const unbonded = await cli(['datanet', 'contribute', id, good, '--dev-account', '4']);
    expect(unbonded.code).toBe(2);
    expect((unbonded.json.errors as { reason: string }[]).map((e) => e.reason)).toEqual(['bond', 'bond', 'bond']);

    // The deployer funds contributor 4, who bonds and contributes a file and stdin; bad rows name file and line.
    const fund = await cli(['datanet', 'bond', id, '--deposit', '5', '--dev-account', '0']);
    expect(fund.code).toBe(0);
    expect((await cli(['datanet', 'bond', id, '--deposit', '5', '--dev-account', '4'])).code).toBe(8); // no OPEN yet
    expect(created.json.owner).toBeTruthy();
    const bad = join(dir, 'more.jsonl');
    writeFileSync(bad, '{"term": "apogee", "gloss": "farthest point of an orbit"}\n{"term": "perigee"}\n{nope\n');
    const c0 = await cli(['datanet', 'contribute', id, good, bad, '--dev-account', '0']);
    expect(c0.code).toBe(0);
    expect(c0.json).toMatchObject({ accepted: 4 });
    expect(c0.json.errors).toEqual([
      { source: bad, line: 2, reason: 'schema', message: 'line 2: field /gloss is required', field: '/gloss' },
      { source: bad, line: 3, reason: 'json', message: 'line 3: invalid JSON at column 2: unexpected "n"' },
    ]);
    const fromStdin = await cli(
      ['datanet', 'contribute', id, '-', '--dev-account', '0'],
      '{"term":"spam spam","gloss":"buy cheap watches now"}\n',
    );
    expect(fromStdin.json).toMatchObject({ accepted: 1 });

    // Review: list the queue, reject the spam (forfeiting 20% of 5 OPEN), approve the rest.
    const queue = await cli(['datanet', 'review', id]);
    const pending = queue.json.pending as { id: string; source: string }[];
    expect(pending).toHaveLength(5);
    const spam = pending.find((p) => p.source === 'stdin:1')?.id as string;
    const rejected = await cli([
      'datanet',
      'review',
      id,
      '--reject',
      spam,
      '--spam',
      '--reason',
      'advertising',
      '--dev-account',
      '8',
    ]);
    expect(rejected.json).toMatchObject({ rejected: 1 });
    expect(rejected.json.forfeited).toHaveLength(1);
    expect((await cli(['datanet', 'review', id, '--approve-all', '--dev-account', '8'])).json).toMatchObject({
      approved: 4,
    });

    const published = await cli(['datanet', 'publish', id, '--dev-account', '8']);
    expect(published.json).toMatchObject({ version: 1, status: 'published', count: 4 });
    const exported = await cli(['datanet', 'export', id, '--version', '1']);
    const first = JSON.parse(exported.stdout.trim().split('\n')[0] as string) as { id: string };
    const proof = await cli(['datanet', 'proof', first.id]);
    expect(proof.json).toMatchObject({ version: 1, verifiedOffline: true, verifiedOnChain: true });
    const withdrawn = await cli(['datanet', 'withdraw', first.id, '--dev-account', '0']);
    expect(withdrawn.json).toMatchObject({ contributionId: first.id, absentFromVersion: 2, lastVersionContaining: 1 });
    const shown = await cli(['datanet', 'show', id]);
    expect(shown.json).toMatchObject({
      counts: { approved: 3, rejected: 1, withdrawn: 1, pending: 0 },
      latestVersion: 1,
    });
  });

  it('names a missing key and a bad id', async () => {
    const noKey = await cli(['datanet', 'withdraw', `0x${'ab'.repeat(32)}`]);
    expect(noKey.code).toBe(4); // the contribution lookup fails before any signing
    const badId = await cli(['datanet', 'show', 'seven']);
    expect(badId.code).toBe(2);
    expect((badId.json.error as { message: string }).message).toBe(
      'Invalid DataNet id "seven": expected a positive integer',
    );
    const unsigned = await cli(['datanet', 'create', '--name', 'x', '--schema', '{}', '--license', 'MIT']);
    expect(unsigned.code).toBe(3);
    expect((unsigned.json.error as { message: string }).message).toBe(
      'No signing key: set TRIBUTARY_PRIVATE_KEY to your private key, or pass --dev-account N on a local chain',
    );
  });
});
