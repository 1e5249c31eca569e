/**
 * Turns a token stream into its suffix array with one of two SA-IS implementations: WebAssembly (compiled from
 * wasm/sais.c; ~2x faster here, limited to wasm32's 4 GiB memory) or TypeScript (no limit but 2^31 positions).
 * `auto` takes WebAssembly when the stream fits. Both give identical arrays; tests run one suite over both.
 */
import { at, BaseError } from '../../core/index.js';
import { sortingText, type TokenStream } from './corpus.js';
import { suffixArrayIs } from './sais.js';
import { saisWasmBase64 } from './sais-wasm.js';

export type SuffixSorter = 'auto' | 'wasm' | 'js';

const PAGE = 65_536;
const WASM_MAX_BYTES = 2 ** 32 - PAGE;

/** A compiled module, opaque here. */
type WasmModule = object;

/**
 * The slice of the WebAssembly JS API used here, declared for this module (the project's TypeScript libs, ES2023
 * without DOM, do not declare WebAssembly; Node provides it as a global).
 */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => WasmModule;
  Memory: new (descriptor: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
};

/** sa_is(text, sa, n, alphabet, scratch) of wasm/sais.c: pointers into memory and sizes, all i32. */
type SaIs = (text: number, sa: number, n: number, k: number, scratch: number) => void;

/** An exported function of five parameters (an exported wasm function's `length` is its parameter count). */
function isSaIs(v: unknown): v is SaIs {
  return typeof v === 'function' && v.length === 5;
}

/** An exported i32 global (`__heap_base`). */
function isI32Global(v: unknown): v is { value: number } {
  return typeof v === 'object' && v !== null && 'value' in v && typeof v.value === 'number';
}

function badModule(what: string): BaseError {
  return new BaseError('INTERNAL', `The suffix-sorter WebAssembly module does not export ${what}`, {
    details: { export: what },
  });
}

let compiled: WasmModule | undefined;
function saisModule(): WasmModule {
  if (!compiled) {
    compiled = new WebAssembly.Module(Buffer.from(saisWasmBase64, 'base64'));
    warmUp(compiled);
  }
  return compiled;
}

/**
 * V8 first runs WebAssembly through its baseline compiler and swaps in optimized code for later calls; a long
 * sort would otherwise spend its first induce passes in baseline code (~35% slower on 10 M tokens here). A few
 * sorts of 64 K symbols (~20 ms) get the hot functions optimized before the real one.
 */
function warmUp(module: WasmModule): void {
  const n = 65_536;
  const text = new Int32Array(n);
  let x = 1;
  for (let i = 0; i < n - 1; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    text[i] = i % 512 < 256 ? 1 + (x >>> 29) : at(text, i - 256);
  }
  for (let r = 0; r < 4; r++) runWasm(module, n, 9, (into) => into.set(text));
}

/** Runs sa_is on a fresh memory; `fill` writes the n symbols; returns the memory and where the array is. */
function runWasm(
  module: WasmModule,
  n: number,
  alphabet: number,
  fill: (into: Int32Array) => void,
): { buffer: ArrayBuffer; saAt: number } {
  const pages = Math.ceil(wasmBytes(n, alphabet) / PAGE);
  // A fresh memory per build: wasm memories never shrink, so this one is dropped (and collected) afterwards.
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const { __heap_base: heapBase, sa_is: saIs } = instance.exports;
  if (!isI32Global(heapBase)) throw badModule('__heap_base');
  if (!isSaIs(saIs)) throw badModule('sa_is');
  const textAt = Math.ceil(heapBase.value / 64) * 64;
  const saAt = textAt + 4 * n;
  fill(new Int32Array(memory.buffer, textAt, n));
  saIs(textAt, saAt, n, alphabet, saAt + 4 * n);
  return { buffer: memory.buffer, saAt };
}

/** Bytes the WebAssembly build needs: text + suffix array (4 B each) + bucket tables of all levels (8(k + n)). */
function wasmBytes(n: number, alphabet: number): number {
  return 2 * PAGE + 16 * n + 8 * alphabet;
}

export function wasmFits(stream: TokenStream): boolean {
  return wasmBytes(stream.tokens.length + 1, stream.starts.length + 0xffff) <= WASM_MAX_BYTES;
}

/**
 * The suffix array of the stream restricted to suffixes that start on a token (separator suffixes sort last and
 * the sentinel first, so this is the slice [1, tokenCount + 1) of the full array), as positions in the stream.
 */
export function sortSuffixes(stream: TokenStream, sorter: SuffixSorter = 'auto'): Uint32Array {
  const useWasm = sorter === 'wasm' || (sorter === 'auto' && wasmFits(stream));
  if (useWasm && !wasmFits(stream)) {
    throw new BaseError('PAYLOAD_TOO_LARGE', 'The corpus is too large for the WebAssembly suffix sorter', {
      details: { tokens: stream.tokenCount, hint: 'use the TypeScript sorter' },
    });
  }
  return useWasm ? sortWasm(stream) : sortJs(stream);
}

function sortJs(stream: TokenStream): Uint32Array {
  const { text, alphabet } = sortingText(stream);
  const sa = suffixArrayIs(text, alphabet);
  return new Uint32Array(sa.buffer, 4, stream.tokenCount);
}

function sortWasm(stream: TokenStream): Uint32Array {
  const n = stream.tokens.length + 1;
  const alphabet = stream.starts.length + 0xffff;
  const { buffer, saAt } = runWasm(saisModule(), n, alphabet, (into) => sortingText(stream, into));
  return new Uint32Array(buffer, saAt + 4, stream.tokenCount).slice();
}
