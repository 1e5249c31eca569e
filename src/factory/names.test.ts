import { describe, expect, it } from 'vitest';
import { BaseError } from '../core/index.js';
import { assertModelName, isValidModelName } from './names.js';
import { parseFineTuneRequest } from './request.js';

describe('model names', () => {
  it("accepts the demo's and the tests' names", () => {
    for (const name of ['planet-facts', 'colors', 'forged', 'strong', 'tampered', 'tributary-base-4m', 'x', 'a.b_c-1'])
      expect(isValidModelName(name), name).toBe(true);
    expect(isValidModelName('x'.repeat(64))).toBe(true);
  });

  it('refuses uppercase, non-ASCII look-alikes, spaces, a leading symbol and lengths outside 1-64', () => {
    for (const name of [
      '',
      'x'.repeat(65),
      'Planet-facts',
      'pl\u0430net-facts',
      'caf\u00e9',
      'cafe\u0301',
      'planet facts',
      'planet-facts\n',
      '-planet',
      '.hidden',
      '_x',
      'a/b',
    ])
      expect(isValidModelName(name), JSON.stringify(name)).toBe(false);
  });

  it('fails with INVALID_ARGUMENT naming the field, and suggests the lowercase spelling', () => {
    const err = (() => {
      try {
        assertModelName('Planet-Facts');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(BaseError);
    expect((err as BaseError).code).toBe('INVALID_ARGUMENT');
    expect((err as BaseError).message).toBe(
      'Invalid model name "Planet-Facts" (field name): must be 1-64 characters of lowercase letters a-z, digits, ".", "_" and "-", starting with a letter or digit; did you mean "planet-facts"?',
    );
    expect((err as BaseError).details).toEqual({ field: 'name', name: 'Planet-Facts' });
    expect(() => assertModelName('pl\u0430net', 'model')).toThrow(
      'Invalid model name "pl\u0430net" (field model): must be 1-64 characters of lowercase letters a-z, digits, ".", "_" and "-", starting with a letter or digit',
    );
  });

  it('refuses such a name in a fine-tune request, naming the field', () => {
    const request = { name: 'Planets', dataNetId: '1', dataNetVersion: 1 };
    expect(() => parseFineTuneRequest(request)).toThrow(
      'Invalid fine-tune request: field name: must be 1-64 characters of lowercase letters a-z, digits, ".", "_" and "-", starting with a letter or digit',
    );
    expect(parseFineTuneRequest({ ...request, name: 'planets' }).name).toBe('planets');
  });
});
