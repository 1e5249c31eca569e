/** The errors a span index reports about its files; users see these messages, so tests check them word for word. */
import { BaseError } from '../../core/index.js';

export function indexFileMissing(path: string): BaseError {
  return new BaseError('INDEX_INVALID', `Span index file ${path} is missing`, { details: { file: path } });
}

export function indexFileWrongSize(path: string, expected: number, found: number): BaseError {
  const what = found < expected ? 'is truncated' : 'has the wrong size';
  return new BaseError('INDEX_INVALID', `Span index file ${path} ${what}: expected ${expected} bytes, found ${found}`, {
    details: { file: path, expectedBytes: expected, foundBytes: found },
  });
}

export function indexFileCorrupt(path: string, reason: string): BaseError {
  return new BaseError('INDEX_INVALID', `Span index file ${path} is corrupt: ${reason}`, {
    details: { file: path, reason },
  });
}

export function indexVersionUnsupported(path: string, version: unknown, supported: number): BaseError {
  return new BaseError(
    'INDEX_INVALID',
    `Span index file ${path} has format version ${String(version)}; this build reads version ${supported}`,
    { details: { file: path, version, supported } },
  );
}

export function indexTokenizerMismatch(dir: string, built: string, inUse: string): BaseError {
  return new BaseError(
    'INDEX_INVALID',
    `Span index ${dir} was built with tokenizer ${built}, not ${inUse}; rebuild it with the tokenizer in use`,
    { details: { index: dir, indexTokenizer: built, tokenizer: inUse } },
  );
}
