import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ValidationError } from '../errors/errors.js';

/** Media type of every error response (RFC 9457). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * RFC 9457 problem document. Extensions (e.g. `errors`, `retryAfter`) are
 * allowed so one shared schema documents every error a route can return.
 */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'urn:nova:problem:<code>' }),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String({ description: 'stable machine-readable code' }),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    traceId: Type.Optional(
      Type.String({
        description: 'W3C trace id of the request (32 hex digits; the trace of its spans when tracing is on)',
      }),
    ),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details' },
);
export type Problem = Static<typeof ProblemSchema>;

const STATUS_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid.',
  401: 'Authentication is required or the token is invalid.',
  403: 'The caller may not do this.',
  404: 'The resource does not exist.',
  409: 'The request conflicts with the current state.',
  413: 'The request body is too large.',
  415: 'The content type is not supported.',
  422: 'The request is well-formed but unacceptable.',
  429: 'Too many requests; see Retry-After.',
  500: 'An unexpected error occurred.',
  503: 'A dependency is unavailable.',
};

const problemRef = Type.Ref('Problem');

export interface ProblemResponse {
  description: string;
  content: { 'application/problem+json': { schema: typeof problemRef } };
}

/**
 * A `response` map fragment documenting the errors a route can return:
 * `response: { 200: Ok, ...errorResponses(400, 404) }`.
 */
export function errorResponses(...statuses: number[]): Record<number, ProblemResponse> {
  const out: Record<number, ProblemResponse> = {};
  for (const status of statuses) {
    out[status] = {
      description: STATUS_DESCRIPTIONS[status] ?? 'Error.',
      content: { [PROBLEM_CONTENT_TYPE]: { schema: problemRef } } as ProblemResponse['content'],
    };
  }
  return out;
}

/**
 * A query parameter a client may leave out: optional in the published
 * contract (OpenAPI, the generated client), yet typed as present for the
 * handler, because the validator fills in its default before the handler runs.
 */
export function defaulted<T extends TSchema>(schema: T): T {
  if (schema.default === undefined) throw new TypeError('defaulted() needs a schema with a default');
  return Type.Optional(schema) as unknown as T;
}

/** Cursor pagination input shared by every list endpoint (API.md: limit 20 by default, at most 100). */
export const PageQuery = Type.Object({
  limit: defaulted(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
});
export type PageQuery = Static<typeof PageQuery>;

/** `{ items, nextCursor }`, the output of every list endpoint. */
export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });

/** Opaque id path parameter. */
export const IdParam = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
});
export type IdParam = Static<typeof IdParam>;

/** Cursors are opaque to clients: base64url of a JSON position. */
export function encodeCursor(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Decodes and validates a cursor; anything else is a 400 `invalid_cursor`. */
export function decodeCursor<T>(cursor: string, schema: TSchema): T {
  const invalid = () =>
    new ValidationError(
      'The cursor is invalid.',
      [{ field: 'query/cursor', message: 'invalid cursor' }],
      'invalid_cursor',
    );
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Value.Check(schema, parsed)) throw invalid();
  return parsed as T;
}
