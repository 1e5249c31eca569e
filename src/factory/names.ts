/**
 * Model names, exactly as ModelRegistry accepts them: 1-64 characters of lowercase ASCII letters, digits, '.', '_'
 * and '-', the first a letter or digit. Nothing else (no uppercase, spaces or non-ASCII), so that no name can
 * imitate another by case or by a look-alike character. Checked here first so that a bad name fails with an error
 * that names the field before any gas is spent.
 */
import { BaseError } from '../core/index.js';
import { factoryApi } from '../protocol/index.js';

/** The pattern and its wording are the protocol's (src/protocol/http/factory.ts), which checks requests with them. */
export const { MODEL_NAME_PATTERN, MODEL_NAME_RULE } = factoryApi;

/** Whether `name` is a model name ModelRegistry accepts (the same rule as its isValidName). */
export function isValidModelName(name: string): boolean {
  return MODEL_NAME_PATTERN.test(name);
}

/** Throws INVALID_ARGUMENT naming `field` (and suggesting the lowercase spelling when that would do). */
export function assertModelName(name: string, field = 'name'): void {
  if (isValidModelName(name)) return;
  const lower = name.toLowerCase();
  const hint = lower !== name && isValidModelName(lower) ? `; did you mean "${lower}"?` : '';
  throw new BaseError(
    'INVALID_ARGUMENT',
    `Invalid model name ${JSON.stringify(name)} (field ${field}): ${MODEL_NAME_RULE}${hint}`,
    {
      details: { field, name },
    },
  );
}
