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
  // Query strings and path parameters repeat (a client pages the same feed): their conversion is
  // remembered per text. Headers are not (every request's set differs).
  const converted = httpPart === 'querystring' || httpPart === 'params' ? createConversionMemo() : null;
  return (value: unknown) => {
    if (httpPart === 'body') return check.Check(value) ? { value } : { error: errorsOf(check, value) };
    const known = converted?.get(value);
    if (known) return { value: { ...known } };
    const candidate = convertText(schema, value);
    if (check.Check(candidate)) {
      converted?.set(value, candidate);
      return { value: candidate };
    }
    return { error: errorsOf(check, candidate) };
  };
};

/** Ajv-shaped errors of a value that failed its check. */
function errorsOf(check: ReturnType<typeof TypeCompiler.Compile>, candidate: unknown) {
  // TypeBox reports a missing property twice ("required", then "Expected string"): keep the first per field.
  const seen = new Set<string>();
  return [...check.Errors(candidate)]
    .filter((e) => !seen.has(e.path) && seen.add(e.path))
    .map((e) => ({
      keyword: 'type',
      instancePath: e.path,
      schemaPath: '',
      params: {},
      message: e.message,
    }));
}

/** Distinct query strings remembered per route part (a bound: the oldest goes first). */
const MEMO_ENTRIES = 1_000;

/**
 * Converted values of text objects whose every value is a string, keyed by
 * their names and values. Handlers get a copy (they may add to it), never
 * the remembered object; anything else (arrays of repeated names, nested
 * answers) is not kept. Only values that passed the check are remembered.
 */
function createConversionMemo() {
  const memo = new Map<string, Record<string, unknown>>();
  const keyOf = (value: unknown): string | null => {
    if (!isRecord(value)) return null;
    let key = '';
    for (const name in value) {
      const text = value[name];
      if (typeof text !== 'string') return null;
      key += `${name}\u0000${text}\u0000`;
    }
    return key;
  };
  return {
    get(value: unknown): Record<string, unknown> | undefined {
      const key = keyOf(value);
      return key === null ? undefined : memo.get(key);
    },
    set(value: unknown, converted: unknown): void {
      const key = keyOf(value);
      // Only flat answers: a nested array or object would be shared by every request's copy.
      if (key === null || !isRecord(converted)) return;
      if (Object.values(converted).some((v) => typeof v === 'object' && v !== null)) return;
      if (memo.size >= MEMO_ENTRIES) {
        const oldest = memo.keys().next();
        if (!oldest.done) memo.delete(oldest.value);
      }
      memo.set(key, { ...converted });
    },
  };
}

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
