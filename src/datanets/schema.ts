/** Row validation against a DataNet's JSON Schema (ajv, with formats), errors naming the field. */
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { BaseError, canonicalJson, keccak256, messageOf } from '../core/index.js';

// ajv-formats is CommonJS: imported from ESM, its default is the module, whose `default` is the plugin function.
const addFormats = ajvFormats.default;

const ajv = addFormats(new Ajv({ allErrors: false, strict: false }));
const cache = new Map<string, ValidateFunction>();

/** Compiles (once per schema) a validator; INVALID_ARGUMENT if the schema itself is not valid. */
export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  const key = keccak256(canonicalJson(schema));
  let validate = cache.get(key);
  if (!validate) {
    try {
      validate = ajv.compile(schema);
    } catch (e) {
      throw new BaseError('INVALID_ARGUMENT', `Invalid DataNet schema: ${messageOf(e)}`, {
        details: { field: 'schema' },
      });
    }
    cache.set(key, validate);
  }
  return validate;
}

/** The first schema violation of `row`, as a field path and a message; undefined if the row is valid. */
export function schemaViolation(
  validate: ValidateFunction,
  row: unknown,
): { field: string; message: string } | undefined {
  if (validate(row)) return undefined;
  const e = validate.errors?.[0];
  if (!e) return { field: '/', message: 'is invalid' };
  // ajv's params of these keywords: { missingProperty } and { additionalProperty }, each the property's name.
  if (e.keyword === 'required')
    return { field: `${e.instancePath}/${String(e.params.missingProperty)}`, message: 'is required' };
  if (e.keyword === 'additionalProperties') {
    return {
      field: `${e.instancePath}/${String(e.params.additionalProperty)}`,
      message: 'is not allowed by the schema',
    };
  }
  return { field: e.instancePath || '/', message: e.message ?? 'is invalid' };
}
