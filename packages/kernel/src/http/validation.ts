import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { FastifySchemaCompiler } from 'fastify';
import '../formats.js';

/**
 * The server's one validator: TypeBox's compiled checks instead of Ajv,
 * whose type coercion applies to bodies too (`{"password": 12345678901}`
 * would pass as a string). Bodies are checked exactly as sent; query strings,
 * path parameters and headers, which are text by nature, get defaults and
 * lossless conversion first. Errors keep Ajv's shape for the error handler.
 */
export const strictValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(schema);
  return (value: unknown) => {
    const candidate = httpPart === 'body' ? value : convertText(schema, value);
    if (check.Check(candidate)) return { value: candidate };
    // TypeBox reports a missing property twice ("required", then "Expected string"): keep the first per field.
    const seen = new Set<string>();
    const error = [...check.Errors(candidate)]
      .filter((e) => !seen.has(e.path) && seen.add(e.path))
      .map((e) => ({
        keyword: 'type',
        instancePath: e.path,
        schemaPath: '',
        params: {},
        message: e.message,
      }));
    return { error };
  };
};

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Defaults and text-to-type conversion for query strings and parameters,
 * refusing lossy conversions ("1.5" or "1e3" for an integer): those values are
 * left as text so the check fails.
 */
function convertText(schema: TSchema, value: unknown): unknown {
  // A plain copy first: Fastify's query objects have no prototype, which Value.Clone passes through
  // uncopied, and Default/Convert would then rewrite the original.
  const copy = isRecord(value) ? { ...value } : value;
  const converted = Value.Convert(schema, Value.Default(schema, copy));
  if (!isRecord(value) || !isRecord(converted)) return converted;
  for (const [key, raw] of Object.entries(value)) {
    const out = converted[key];
    if (typeof raw === 'string' && typeof out === 'number' && String(out) !== raw) converted[key] = raw;
  }
  return converted;
}
