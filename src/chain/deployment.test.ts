import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorOf } from '../../test/fixtures/errors.js';
import { type Deployment, readDeployment, writeDeployment } from './deployment.js';
import { allocationAmounts, defaultDeployParameters, TOTAL_SUPPLY } from './parameters.js';

const sample: Deployment = {
  version: 1,
  chainId: 31337,
  deployer: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  block: 1,
  blockHash: `0x${'ab'.repeat(32)}`,
  deployedAt: '2026-11-22T00:00:00.000Z',
  contracts: {
    OpenToken: '0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9',
    Staking: '0x5FC8d32690cc91D4c39d9d3abcBD16989F875707',
    Governor: '0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9',
    Timelock: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    DataNetRegistry: '0xa513E6E4b8f2a923D98304ec87F64353C4D5C853',
    ModelRegistry: '0x2279B7A0a67DB372996a5FaB50D91eAA73d2eBe6',
    ProtocolConfig: '0x8A791620dd6260079BF849Dc5567aDC3F2FdC318',
    RewardDistributor: '0x610178dA211FEF7D417bC0e6FeD39F05609AD788',
    InferenceEscrow: '0xB7f8BC63BbcaD18155201308C8f3540b07f84F5e',
  },
  allocations: [],
  parameters: {},
};

describe('deployment file', () => {
  it('round-trips and checksums addresses', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dep-')), 'deployment.json');
    writeDeployment(file, {
      ...sample,
      contracts: { ...sample.contracts, OpenToken: '0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9' },
    });
    expect(readDeployment(file)).toEqual(sample);
  });

  it('names the file and the field that is wrong', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dep-')), 'deployment.json');
    writeFileSync(file, JSON.stringify({ ...sample, contracts: { ...sample.contracts, Staking: '0x12' } }));
    const e = errorOf(() => readDeployment(file));
    expect(e.code).toBe('DEPLOYMENT_INVALID');
    expect(e.message).toBe(`Deployment file ${file}: field contracts.Staking: expected a 0x-prefixed 20-byte address`);
    writeFileSync(file, '{"version": 1,,}');
    expect(errorOf(() => readDeployment(file)).message).toBe(
      `Deployment file ${file} is not valid JSON at line 1, column 15: unexpected ","`,
    );
    expect(errorOf(() => readDeployment(join(file, 'nope'))).message).toBe(
      `Cannot read deployment file ${join(file, 'nope')}: ENOTDIR`,
    );
  });
});

describe('allocation', () => {
  it('splits exactly the supply by OpenLedger’s shares', () => {
    const amounts = allocationAmounts(defaultDeployParameters({ deployer: sample.deployer }).allocations);
    expect(amounts.reduce((a, b) => a + b, 0n)).toBe(TOTAL_SUPPLY);
  });

  it('refuses shares that do not sum to the whole supply, naming the sum', () => {
    const e = errorOf(() => allocationAmounts([{ label: 'a', bps: 9_999, recipient: 'treasury' }]));
    expect(e.message).toBe('Allocation shares sum to 9999 bps; they must sum to 10000 (the whole supply)');
    expect(errorOf(() => allocationAmounts([{ label: 'z', bps: 0, recipient: 'treasury' }])).message).toBe(
      'Allocation "z" has share 0 bps; expected a positive integer',
    );
  });
});
