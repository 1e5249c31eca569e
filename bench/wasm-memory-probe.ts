/**
 * Records every WebAssembly memory this thread creates, by wrapping the constructor — imported before anything that
 * loads jax-js, whose wasm backend computes in one memory (the part of the engine the 4 GiB limit applies to).
 */
interface WasmMemory {
  buffer: ArrayBufferLike;
}
type MemoryConstructor = new (descriptor: object) => WasmMemory;
const wasm = (globalThis as unknown as { WebAssembly: { Memory: MemoryConstructor } }).WebAssembly;

const memories: WasmMemory[] = [];
const Original = wasm.Memory;
wasm.Memory = class extends Original {
  constructor(descriptor: object) {
    super(descriptor);
    memories.push(this);
  }
};

/** The bytes the recorded memories hold now. */
export const wasmMemoryBytes = (): number => memories.reduce((n, m) => n + m.buffer.byteLength, 0);
