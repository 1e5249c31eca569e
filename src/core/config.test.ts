import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorOf } from '../../test/fixtures/errors.js';
import { loadConfig } from './config.js';

const cwd = '/srv/app';

describe('loadConfig', () => {
  it('uses defaults when nothing is given', () => {
    const c = loadConfig({ env: {}, cwd });
    expect(c).toEqual({
      dataDir: '/srv/app/.tributary',
      host: '127.0.0.1',
      port: 7420,
      rpcUrl: undefined,
      chainPort: 0,
      databaseUrl: undefined,
      logLevel: 'warn',
      gpu: 'off',
      deployerKey: undefined,
      nodeKey: undefined,
      teamBeneficiary: undefined,
      investorBeneficiary: undefined,
      liquidityRecipient: undefined,
    });
  });

  it('prefers flags over env over file over defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'tributary.json'), JSON.stringify({ port: 1000, host: 'file-host', chainPort: 3 }));
    const c = loadConfig({
      flags: { dataDir: dir, port: '2000' },
      env: { TRIBUTARY_HOST: 'env-host', TRIBUTARY_PORT: '1500' },
      cwd,
    });
    expect(c.port).toBe(2000);
    expect(c.host).toBe('env-host');
    expect(c.chainPort).toBe(3);
    expect(c.dataDir).toBe(dir);
  });

  it('names the field and the flag of a bad value', () => {
    const e = errorOf(() => loadConfig({ flags: { port: 'abc' }, env: {}, cwd }));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toBe('Invalid port from flag --port: expected an integer from 0 to 65535, got "abc"');
    expect(e.details).toEqual({ field: 'port', source: 'flag --port', value: 'abc' });
  });

  it('serves registered bases on a GPU only when asked (--gpu auto or TRIBUTARY_GPU=auto), naming a bad mode', () => {
    expect(loadConfig({ flags: { gpu: 'auto' }, env: {}, cwd }).gpu).toBe('auto');
    expect(loadConfig({ env: { TRIBUTARY_GPU: 'auto' }, cwd }).gpu).toBe('auto');
    expect(errorOf(() => loadConfig({ env: { TRIBUTARY_GPU: 'cuda' }, cwd })).message).toBe(
      'Invalid gpu from environment variable TRIBUTARY_GPU: expected auto or off, got "cuda"',
    );
  });

  it('names the environment variable of a bad value', () => {
    const e = errorOf(() => loadConfig({ env: { DATABASE_URL: 'mysql://x' }, cwd }));
    expect(e.message).toBe(
      'Invalid databaseUrl from environment variable DATABASE_URL: expected a URL starting with postgres:// or postgresql://, got "mysql://x"',
    );
  });

  it('names the file, key, line and column of config file problems', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{\n  "port": 1,\n  }');
    expect(errorOf(() => loadConfig({ flags: { config: file }, env: {}, cwd })).message).toBe(
      `Config file ${file} is not valid JSON at line 3, column 3: unexpected "}"`,
    );
    writeFileSync(file, '{"prot": 1}');
    expect(errorOf(() => loadConfig({ flags: { config: file }, env: {}, cwd })).message).toBe(
      `Config file ${file} has unknown key "prot"; known keys: dataDir, host, port, rpcUrl, chainPort, databaseUrl, logLevel, gpu, deployerKey, nodeKey, teamBeneficiary, investorBeneficiary, liquidityRecipient`,
    );
    writeFileSync(file, '{"logLevel": "loud"}');
    expect(errorOf(() => loadConfig({ flags: { config: file }, env: {}, cwd })).message).toBe(
      `Invalid logLevel from config file ${file} (key "logLevel"): expected one of fatal, error, warn, info, debug, trace, silent, got "loud"`,
    );
  });

  it('refuses a missing explicit config file', () => {
    expect(errorOf(() => loadConfig({ flags: { config: '/nonexistent/t.json' }, env: {}, cwd })).message).toBe(
      'Cannot read config file /nonexistent/t.json: ENOENT',
    );
  });

  it('accepts the deployer key only in hex form', () => {
    const e = errorOf(() => loadConfig({ env: { TRIBUTARY_DEPLOYER_KEY: '1234' }, cwd }));
    expect(e.message).toBe(
      'Invalid deployerKey from environment variable TRIBUTARY_DEPLOYER_KEY: expected a 32-byte hex private key starting with 0x, got "1234"',
    );
  });

  it('reads the token beneficiaries from the environment or the config file, as addresses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const team = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    const investors = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
    writeFileSync(join(dir, 'tributary.json'), JSON.stringify({ teamBeneficiary: team, liquidityRecipient: team }));
    const c = loadConfig({ flags: { dataDir: dir }, env: { TRIBUTARY_INVESTOR_BENEFICIARY: investors }, cwd });
    expect([c.teamBeneficiary, c.investorBeneficiary, c.liquidityRecipient]).toEqual([team, investors, team]);
    const e = errorOf(() => loadConfig({ env: { TRIBUTARY_LIQUIDITY_RECIPIENT: 'treasury' }, cwd }));
    expect(e.message).toBe(
      'Invalid liquidityRecipient from environment variable TRIBUTARY_LIQUIDITY_RECIPIENT: expected a 20-byte hex address starting with 0x, got "treasury"',
    );
  });
});
