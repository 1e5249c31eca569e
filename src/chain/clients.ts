/**
 * viem clients for one chain, and the two write paths every component uses: deploying a contract and sending a
 * contract transaction. Both simulate first, so a revert surfaces as a CONTRACT_REVERTED error that names the
 * contract, the function and the decoded custom error, before any gas is spent.
 */
import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  type ContractConstructorArgs,
  type ContractFunctionArgs,
  type ContractFunctionName,
  createPublicClient,
  createTestClient,
  createWalletClient,
  decodeErrorResult,
  defineChain,
  encodeDeployData,
  getAddress,
  type Hex,
  http,
  isHex,
  type PublicClient,
  type TestClient,
  type TransactionReceipt,
  BaseError as ViemError,
  type WalletClient,
} from 'viem';
import { BaseError, bigintReplacer } from '../core/index.js';
import * as artifacts from './generated/index.js';

/** Every custom error of every project contract: a call can revert with an error of a contract it calls. */
const allErrors: Abi = Object.values(artifacts).flatMap((a): Abi => {
  const abi: Abi = a.abi;
  return abi.filter((item) => item.type === 'error');
});

export interface ChainClients {
  rpcUrl: string;
  chain: Chain;
  public: PublicClient;
  wallet(account: Account): WalletClient;
  /** A wallet whose transactions the node signs (impersonated or unlocked accounts on a local chain). */
  walletForAddress(address: Address): WalletClient;
  /** anvil's test actions (time travel, snapshots); only meaningful on a local anvil chain. */
  test(): TestClient;
}

export interface ConnectOptions {
  /** How often to poll for receipts; local chains mine instantly, so poll fast there. */
  pollingIntervalMs?: number;
}

/** Connects to `rpcUrl` and learns its chain id; CHAIN_UNAVAILABLE if nothing answers. */
export async function connectChain(rpcUrl: string, options: ConnectOptions = {}): Promise<ChainClients> {
  const pollingInterval = options.pollingIntervalMs ?? (isLocalUrl(rpcUrl) ? 50 : 1000);
  const probe = createPublicClient({ transport: http(rpcUrl, { retryCount: 0 }) });
  let chainId: number;
  try {
    chainId = await probe.getChainId();
  } catch (e) {
    throw new BaseError('CHAIN_UNAVAILABLE', `No EVM node answers at ${rpcUrl}`, {
      details: { rpcUrl, reason: e instanceof ViemError ? e.shortMessage : String(e) },
      cause: e,
    });
  }
  const chain: Chain = defineChain({
    id: chainId,
    name: chainId === 31337 ? 'Local (anvil)' : `Chain ${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const transport = http(rpcUrl);
  const publicClient = createPublicClient({ chain, transport, pollingInterval });
  return {
    rpcUrl,
    chain,
    public: publicClient,
    wallet: (account) => createWalletClient({ chain, transport, account, pollingInterval }),
    walletForAddress: (address) => createWalletClient({ chain, transport, account: address, pollingInterval }),
    test: () => createTestClient({ chain, transport, mode: 'anvil', pollingInterval }),
  };
}

function isLocalUrl(url: string): boolean {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

interface Artifact<TAbi extends Abi> {
  contractName: string;
  abi: TAbi;
  bytecode: Hex;
}

/** Deploys `artifact` and returns its address; a reverting constructor throws CONTRACT_REVERTED. */
export async function deployContract<const TAbi extends Abi>(
  clients: ChainClients,
  account: Account,
  artifact: Artifact<TAbi>,
  args: ContractConstructorArgs<TAbi> & readonly unknown[],
): Promise<{ address: Address; receipt: TransactionReceipt }> {
  const label = `${artifact.contractName}.constructor`;
  // The arguments were checked against the constructor of `TAbi` at the call; encoding needs only their values.
  const abi: Abi = artifact.abi;
  const data = encodeDeployData({ abi, bytecode: artifact.bytecode, args });
  try {
    await clients.public.call({ account, data });
  } catch (e) {
    throw contractError(e, label, artifact.abi);
  }
  const wallet = clients.wallet(account);
  const hash = await wallet.sendTransaction({ account, chain: clients.chain, data });
  const receipt = await clients.public.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success' || !receipt.contractAddress) {
    throw new BaseError('CONTRACT_REVERTED', `${label} reverted on chain`, { details: { transactionHash: hash } });
  }
  return { address: getAddress(receipt.contractAddress), receipt };
}

type WriteName<TAbi extends Abi> = ContractFunctionName<TAbi, 'nonpayable' | 'payable'>;

export interface ContractCall<TAbi extends Abi, TName extends WriteName<TAbi>> {
  address: Address;
  abi: TAbi;
  functionName: TName;
  args: ContractFunctionArgs<TAbi, 'nonpayable' | 'payable', TName> & readonly unknown[];
  /** Contract name for error messages. */
  contract?: string;
}

/** Simulates, sends and waits for a contract transaction; throws CONTRACT_REVERTED naming the custom error. */
export async function sendTx<const TAbi extends Abi, TName extends WriteName<TAbi>>(
  clients: ChainClients,
  /** A local account, or an address the node signs for (anvil impersonation). */
  account: Account | Address,
  call: ContractCall<TAbi, TName>,
): Promise<TransactionReceipt> {
  const label = `${call.contract ?? call.address}.${call.functionName}`;
  // `call` was checked against `TAbi` where it was written; the calls below need only its values.
  const abi: Abi = call.abi;
  const functionName: string = call.functionName;
  const params = { address: call.address, abi, functionName, args: call.args, account, chain: clients.chain };
  let request: Awaited<ReturnType<PublicClient['simulateContract']>>['request'];
  let gas: bigint;
  try {
    ({ request } = await clients.public.simulateContract(params));
    gas = await clients.public.estimateContractGas(params);
  } catch (e) {
    throw contractError(e, label, call.abi);
  }
  const wallet = typeof account === 'string' ? clients.walletForAddress(account) : clients.wallet(account);
  // The estimate is made at the current timestamp; if the block lands in a new second, a write that adds a new
  // timestamped checkpoint (stakes, votes) costs ~45k more than one that overwrote the last. Unused gas is free.
  const hash = await wallet.writeContract({ ...request, gas: gas + gas / 5n + 60_000n });
  const receipt = await clients.public.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') {
    throw new BaseError('CONTRACT_REVERTED', `${label} reverted on chain`, { details: { transactionHash: hash } });
  }
  return receipt;
}

/** Turns a viem error into CONTRACT_REVERTED (with the decoded custom error) or CHAIN_UNAVAILABLE. */
export function contractError(e: unknown, label: string, abi: Abi): BaseError {
  if (e instanceof BaseError) return e;
  if (!(e instanceof ViemError)) return new BaseError('INTERNAL', `${label} failed: ${String(e)}`, { cause: e });
  const revertData = findRevertData(e);
  if (revertData !== undefined) {
    let decoded: { errorName: string; args: readonly unknown[] | undefined } | undefined;
    for (const candidate of [abi, allErrors]) {
      try {
        decoded = decodeErrorResult({ abi: candidate, data: revertData });
        break;
      } catch {
        decoded = undefined;
      }
    }
    if (decoded) {
      const json: unknown = JSON.parse(JSON.stringify(decoded.args ?? [], bigintReplacer));
      const args: unknown[] = Array.isArray(json) ? json : [];
      return new BaseError(
        'CONTRACT_REVERTED',
        `${label} reverted with ${decoded.errorName}(${args.map((a) => JSON.stringify(a)).join(', ')})`,
        {
          details: { call: label, error: decoded.errorName, args },
          cause: e,
        },
      );
    }
    return new BaseError('CONTRACT_REVERTED', `${label} reverted with unknown data ${revertData}`, {
      details: { call: label, data: revertData },
      cause: e,
    });
  }
  if (/revert/i.test(e.message)) {
    return new BaseError('CONTRACT_REVERTED', `${label} reverted: ${e.shortMessage}`, {
      details: { call: label },
      cause: e,
    });
  }
  return new BaseError('CHAIN_UNAVAILABLE', `${label} failed: ${e.shortMessage}`, {
    details: { call: label },
    cause: e,
  });
}

function findRevertData(e: ViemError): Hex | undefined {
  let found: Hex | undefined;
  e.walk((inner) => {
    const data = dataOf(inner);
    const nested = dataOf(data);
    if (isHex(data, { strict: false }) && data.length >= 10) found = data;
    else if (isHex(nested, { strict: false })) found = nested;
    return false;
  });
  return found;
}

/** The `data` member of an error (or of its `data`), whatever it is. */
function dataOf(x: unknown): unknown {
  return typeof x === 'object' && x !== null && 'data' in x ? x.data : undefined;
}
