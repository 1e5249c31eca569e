/** Host-side token batches and their device form. */
import './jax-preload.js';
import { numpy as np } from '@jax-js/jax';
import { BaseError } from '../core/index.js';

export interface TokenBatch {
  batchSize: number;
  seqLen: number;
  /** `[B·T]` input token ids, row-major. */
  inputs: Int32Array;
  /** `[B·T]` next-token ids. */
  targets: Int32Array;
  /** `[B·T]`, 1 where the token's loss counts (SFT: the response only). Default all ones. */
  mask?: Float32Array;
}

export interface DeviceBatch {
  inputs: np.Array;
  targets: np.Array;
  mask: np.Array;
}

export function checkBatch(b: TokenBatch, vocabSize: number): void {
  const n = b.batchSize * b.seqLen;
  if (b.inputs.length !== n || b.targets.length !== n || (b.mask && b.mask.length !== n)) {
    throw new BaseError('INVALID_ARGUMENT', 'Batch arrays do not match batchSize × seqLen', {
      details: { batchSize: b.batchSize, seqLen: b.seqLen, inputs: b.inputs.length, targets: b.targets.length },
    });
  }
  for (const arr of [b.inputs, b.targets]) {
    for (const id of arr) {
      if (id < 0 || id >= vocabSize) {
        throw new BaseError('INVALID_ARGUMENT', `Token id ${id} is outside the vocabulary`, {
          details: { id, vocabSize },
        });
      }
    }
  }
}

export function batchToDevice(b: TokenBatch): DeviceBatch {
  const shape = [b.batchSize, b.seqLen];
  return {
    inputs: np.array(b.inputs, { dtype: np.int32 }).reshape(shape),
    targets: np.array(b.targets, { dtype: np.int32 }).reshape(shape),
    mask: b.mask ? np.array(b.mask).reshape(shape) : np.ones(shape),
  };
}
