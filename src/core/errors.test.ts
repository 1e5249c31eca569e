import { describe, expect, it } from 'vitest';
import {
  BaseError,
  type ErrorCode,
  errorCodes,
  errorTable,
  exitCodeByCode,
  exitCodes,
  httpStatusByCode,
  isErrorCode,
  isRetryable,
  openAiErrorOf,
} from './errors.js';

const codes = Object.keys(errorTable) as ErrorCode[];
const openAiTypes = [
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'insufficient_quota',
  'rate_limit_error',
  'server_error',
];
/** 4xx codes that say "try again later" rather than "this request is wrong". */
const retryable4xx: ErrorCode[] = ['RATE_LIMITED'];

describe('the error table', () => {
  it.each(codes)('%s has every field', (code) => {
    const spec = errorTable[code];
    expect(code).toMatch(/^[A-Z][A-Z_]*[A-Z]$/);
    expect(spec.description).toMatch(/^[A-Z].*\.$/);
    expect(Number.isInteger(spec.http) && spec.http >= 400 && spec.http <= 599).toBe(true);
    expect(Object.values(exitCodes)).toContain(spec.exit);
    expect(typeof spec.retryable).toBe('boolean');
    expect(openAiTypes).toContain(spec.openAi.type);
  });

  it('derives the description, HTTP status and exit code tables with every code', () => {
    for (const table of [errorCodes, httpStatusByCode, exitCodeByCode]) expect(Object.keys(table)).toEqual(codes);
    for (const c of codes) {
      expect(errorCodes[c]).toBe(errorTable[c].description);
      expect(httpStatusByCode[c]).toBe(errorTable[c].http);
      expect(exitCodeByCode[c]).toBe(errorTable[c].exit);
    }
  });

  it('keeps 4xx codes (the caller must change something) from being retried, except rate limits', () => {
    for (const c of codes) {
      const { http, retryable } = errorTable[c];
      if (http < 500) expect({ c, retryable }).toEqual({ c, retryable: retryable4xx.includes(c) });
    }
    for (const c of retryable4xx) expect(errorTable[c].retryable).toBe(true);
  });

  it('retries what is transient and nothing that is wrong for good', () => {
    const transient: ErrorCode[] = [
      'RATE_LIMITED',
      'TIMEOUT',
      'CHAIN_UNAVAILABLE',
      'NODE_UNAVAILABLE',
      'ADAPTER_UNAVAILABLE',
      'STORE_UNAVAILABLE',
    ];
    const permanent: ErrorCode[] = [
      'INVALID_ARGUMENT',
      'CONFIG_INVALID',
      'CONTRACT_REVERTED',
      'MODEL_INVALID',
      'MODEL_UNSUPPORTED',
      'ADAPTER_INVALID',
      'INDEX_INVALID',
      'DEPLOYMENT_INVALID',
      'MIGRATION_FAILED',
      'CHAIN_MISMATCH',
    ];
    for (const c of transient) expect({ c, retryable: errorTable[c].retryable }).toEqual({ c, retryable: true });
    for (const c of permanent) expect({ c, retryable: errorTable[c].retryable }).toEqual({ c, retryable: false });
    for (const c of codes)
      if (c.endsWith('_UNAVAILABLE')) expect({ c, http: errorTable[c].http }).toEqual({ c, http: 503 });
  });

  it('gives each HTTP status class its OpenAI error type', () => {
    const expected = (http: number) =>
      http >= 500
        ? 'server_error'
        : ({ 401: 'authentication_error', 402: 'insufficient_quota', 403: 'permission_error', 429: 'rate_limit_error' }[
            http
          ] ?? 'invalid_request_error');
    for (const c of codes) {
      const { http, openAi } = errorTable[c];
      expect({ c, type: openAi.type }).toEqual({ c, type: expected(http) });
    }
  });

  it('maps each exit code to the codes of its kind (docs/architecture.md#errors)', () => {
    const byExit = new Map<number, ErrorCode[]>();
    for (const c of codes) byExit.set(errorTable[c].exit, [...(byExit.get(errorTable[c].exit) ?? []), c]);
    expect(Object.fromEntries(byExit)).toEqual({
      1: ['INTERNAL'],
      2: ['INVALID_ARGUMENT', 'PAYLOAD_TOO_LARGE', 'MODEL_INVALID', 'MODEL_UNSUPPORTED', 'INDEX_INVALID'],
      3: ['CONFIG_INVALID'],
      4: ['NOT_FOUND'],
      5: ['CONFLICT', 'CHAIN_MISMATCH'],
      6: ['UNAUTHORIZED', 'FORBIDDEN', 'PAYMENT_REQUIRED'],
      7: [
        'RATE_LIMITED',
        'CHAIN_UNAVAILABLE',
        'NODE_UNAVAILABLE',
        'ADAPTER_UNAVAILABLE',
        'TIMEOUT',
        'STORE_UNAVAILABLE',
        'PROCESS_FAILED',
      ],
      8: ['CONTRACT_REVERTED'],
      9: ['ADAPTER_INVALID', 'DEPLOYMENT_INVALID', 'MIGRATION_FAILED'],
    });
  });

  it('tells known codes from other strings', () => {
    expect(isErrorCode('NOT_FOUND')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode('not_found')).toBe(false);
    expect(isErrorCode(undefined)).toBe(false);
  });

  it('retries BaseErrors by their code and anything else as INTERNAL', () => {
    expect(isRetryable(new BaseError('TIMEOUT', 'slow'))).toBe(true);
    expect(isRetryable(new BaseError('CONTRACT_REVERTED', 'no'))).toBe(false);
    expect(isRetryable(new Error('boom'))).toBe(errorTable.INTERNAL.retryable);
  });
});

describe('OpenAI errors', () => {
  it('answers an unknown model with model_not_found, judged from details.model and never from the message', () => {
    expect(
      openAiErrorOf(new BaseError('NOT_FOUND', 'No model "x" is registered', { details: { model: 'x' } })),
    ).toEqual({
      status: 404,
      body: {
        error: {
          message: 'No model "x" is registered',
          type: 'invalid_request_error',
          param: null,
          code: 'model_not_found',
        },
      },
    });
    expect(
      openAiErrorOf(new BaseError('NOT_FOUND', 'No model here', { details: { receiptId: '1' } })).body.error.code,
    ).toBe('not_found');
  });

  it('uses the table for status and type, the field as param and the code in lower case', () => {
    expect(
      openAiErrorOf(new BaseError('CONFLICT', 'Already there', { details: { field: 'name', constraint: 'x' } })),
    ).toEqual({
      status: 409,
      body: { error: { message: 'Already there', type: 'invalid_request_error', param: 'name', code: 'conflict' } },
    });
    expect(openAiErrorOf(new BaseError('MODEL_INVALID', 'Corrupt')).status).toBe(422);
    expect(openAiErrorOf(new BaseError('UNAUTHORIZED', 'Who?')).body.error.type).toBe('authentication_error');
    expect(openAiErrorOf(new BaseError('INTERNAL', 'Oops')).body.error).toEqual({
      message: 'Oops',
      type: 'server_error',
      param: null,
      code: 'internal',
    });
  });
});
