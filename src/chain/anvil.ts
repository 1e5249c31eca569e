/**
 * The local chain: anvil from the @foundry-rs/anvil npm package, as a child process on 127.0.0.1. With a state
 * file the chain survives restarts (anvil loads it at start, dumps it every few seconds and on shutdown).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { BaseError, type Logger, silentLogger } from '../core/index.js';

export interface AnvilOptions {
  host?: string;
  /** 0 (default) lets anvil pick a free port. */
  port?: number;
  chainId?: number;
  /** Load chain state from this file if it exists; dump to it periodically and on stop. */
  stateFile?: string;
  /** Seconds between state dumps (with stateFile). */
  stateIntervalSeconds?: number;
  /** Seconds per block; undefined = mine a block per transaction. */
  blockTimeSeconds?: number;
  log?: Logger;
  startTimeoutMs?: number;
}

export interface Anvil {
  rpcUrl: string;
  port: number;
  chainId: number;
  pid: number;
  /** Stops anvil (SIGTERM, then SIGKILL after a grace period) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Path of the anvil binary: $TRIBUTARY_ANVIL_BIN if set, else the build shipped in the npm package for this
 * platform (installed as an optional dependency), else `anvil` on the PATH (Foundry's own installer).
 */
export function anvilBinaryPath(env: Record<string, string | undefined> = process.env): string {
  if (env.TRIBUTARY_ANVIL_BIN) return env.TRIBUTARY_ANVIL_BIN;
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const exe = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    return createRequire(import.meta.url).resolve(`${pkg}/bin/${exe}`);
  } catch {
    const onPath = (env.PATH ?? '')
      .split(delimiter)
      .map((dir) => join(dir, exe))
      .find((candidate) => existsSync(candidate));
    if (onPath) return onPath;
    throw new BaseError(
      'PROCESS_FAILED',
      `No anvil binary for ${process.platform}/${process.arch}: install ${pkg} from npm, or Foundry's anvil on the PATH, or set TRIBUTARY_ANVIL_BIN`,
      { details: { package: pkg }, docsPath: 'README.md' },
    );
  }
}

const LISTENING = /Listening on ([\d.]+):(\d+)/;

export async function startAnvil(options: AnvilOptions = {}): Promise<Anvil> {
  const log = options.log ?? silentLogger();
  const host = options.host ?? '127.0.0.1';
  const chainId = options.chainId ?? 31337;
  // 20 funded dev accounts: the local setup gives jobs to accounts beyond anvil's default ten (see devRoles).
  const args = ['--host', host, '--port', String(options.port ?? 0), '--chain-id', String(chainId), '--accounts', '20'];
  if (options.stateFile)
    args.push('--state', options.stateFile, '--state-interval', String(options.stateIntervalSeconds ?? 5));
  if (options.blockTimeSeconds !== undefined) args.push('--block-time', String(options.blockTimeSeconds));

  const child = spawn(anvilBinaryPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // If this process dies without stopping anvil, take anvil down with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(`anvil did not report a listening address within ${options.startTimeoutMs ?? 30_000} ms`),
      options.startTimeoutMs ?? 30_000,
    );
    const fail = (message: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new BaseError('PROCESS_FAILED', message, { details: { args, output: output.slice(-2000) } }));
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = LISTENING.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[2]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (e) => fail(`anvil failed to start: ${e.message}`));
    child.once('exit', (code, signal) =>
      fail(
        `anvil exited during start-up (${signal ?? `code ${code}`}): ${output.trim().split('\n').slice(-3).join(' ')}`,
      ),
    );
  });
  child.removeAllListeners('exit');
  child.stdout?.removeAllListeners('data');
  child.stderr?.removeAllListeners('data');
  // Keep draining anvil's output so its pipes never fill up and block it.
  child.stdout?.on('data', (chunk: Buffer) => log.trace({ anvil: chunk.toString().trim() }));
  child.stderr?.on('data', (chunk: Buffer) => log.debug({ anvil: chunk.toString().trim() }));
  child.once('exit', (code, signal) => log.debug({ code, signal }, 'anvil exited'));

  const rpcUrl = `http://${host}:${port}`;
  log.info({ rpcUrl, pid: child.pid }, 'anvil started');
  return {
    rpcUrl,
    port,
    chainId,
    pid: child.pid ?? -1,
    stop: () => stopChild(child, killOnExit),
  };
}

async function stopChild(child: ChildProcess, killOnExit: () => void, graceMs = 10_000): Promise<void> {
  process.removeListener('exit', killOnExit);
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
