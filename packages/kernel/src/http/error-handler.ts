import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import type { FieldIssue } from '../errors/errors.js';
import { unavailableFrom } from '../errors/infrastructure.js';
import type { NovaApp } from './app.js';
import { buildProblem, isNovaError, type ProblemRender, renderNovaError } from './problem.js';
import { traceIdFor } from './request-tracing.js';
import { PROBLEM_CONTENT_TYPE } from './schemas.js';

/** Fastify's own client errors, by their stable `code`, as Nova problem codes. */
const FASTIFY_CODES: Record<string, { status: number; code: string; detail: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'invalid_json',
    detail: 'The request body is not valid JSON.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'empty_body',
    detail: 'The request body is empty but the content type is application/json.',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'invalid_content_length',
    detail: 'The request body size does not match Content-Length.',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'payload_too_large',
    detail: 'The request body is too large.',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    detail: 'The content type is not supported.',
  },
  FST_ERR_BAD_URL: { status: 400, code: 'bad_url', detail: 'The request URL is malformed.' },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, code: 'bad_request', detail: 'The request could not be routed.' },
};

// Body fields are plain JSON pointers ("/email"); other locations are prefixed ("query/limit").
const LOCATION_PREFIX: Record<string, string> = {
  body: '',
  querystring: 'query',
  params: 'params',
  headers: 'headers',
};

/** Every failing field of a schema validation error, as `{ field, message }`. */
export function validationIssues(
  validation: FastifySchemaValidationError[],
  context: string | undefined,
): FieldIssue[] {
  const prefix = LOCATION_PREFIX[context ?? 'body'] ?? context ?? '';
  const issues: FieldIssue[] = [];
  for (const v of validation) {
    let pointer = v.instancePath;
    const params = v.params as Record<string, unknown>;
    if (v.keyword === 'required' && typeof params.missingProperty === 'string') {
      pointer = `${pointer}/${params.missingProperty}`;
    } else if (v.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      pointer = `${pointer}/${params.additionalProperty}`;
    }
    const field = `${prefix}${pointer}` || '/';
    const message = v.message ?? 'is invalid';
    // Unions report every branch; keep one line per field and message.
    if (!issues.some((i) => i.field === field && i.message === message)) issues.push({ field, message });
  }
  return issues;
}

/** Maps any thrown value to a problem; the one place errors become responses. */
export function renderError(error: unknown, context: { traceId: string; instance: string }): ProblemRender {
  if (isNovaError(error)) return renderNovaError(error, context);
  const fastifyError = error as Partial<FastifyError> | null;
  if (fastifyError && Array.isArray(fastifyError.validation)) {
    const errors = validationIssues(fastifyError.validation, fastifyError.validationContext);
    return {
      status: 400,
      body: buildProblem(400, 'validation_failed', 'The request is invalid.', context, { errors }),
      headers: {},
      unexpected: false,
    };
  }
  const known = typeof fastifyError?.code === 'string' ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (known) {
    return {
      status: known.status,
      body: buildProblem(known.status, known.code, known.detail, context),
      headers: {},
      unexpected: false,
    };
  }
  // An infrastructure failure nobody wrapped is still an outage: 503, never 500.
  const unavailable = unavailableFrom(error);
  if (unavailable) return renderNovaError(unavailable, context);
  const statusCode = fastifyError?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    // A client error raised by Fastify or a plugin: its message is its own, not ours to trust.
    return {
      status: statusCode,
      body: buildProblem(statusCode, 'bad_request', 'The request could not be processed.', context),
      headers: {},
      unexpected: false,
    };
  }
  return {
    status: 500,
    body: buildProblem(500, 'internal_error', 'An unexpected error occurred.', context),
    headers: {},
    unexpected: true,
  };
}

/** Sends a problem, bypassing any response schema the route declared. */
export function sendProblem(reply: FastifyReply, problem: ProblemRender): FastifyReply {
  for (const [name, value] of Object.entries(problem.headers)) reply.header(name, value);
  return reply
    .code(problem.status)
    .header('x-request-id', reply.request.id)
    .type(PROBLEM_CONTENT_TYPE)
    .serializer(JSON.stringify)
    .send(problem.body);
}

function problemContext(request: FastifyRequest): { traceId: string; instance: string } {
  const url = request.url;
  const q = url.indexOf('?');
  // The instance is the path only: query strings may carry tokens.
  return { traceId: traceIdFor(request), instance: q === -1 ? url : url.slice(0, q) };
}

/** Installs the error and not-found handlers on the root instance. */
export function installErrorHandling(app: NovaApp): void {
  app.setErrorHandler((error, request, reply) => {
    const problem = renderError(error, problemContext(request));
    if (problem.unexpected) {
      request.log.error({ err: error }, 'request failed unexpectedly');
    } else if (problem.status >= 500) {
      // The cause (which dependency, which socket error) is for operators, not the client.
      const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
      request.log.warn({ status: problem.status, code: problem.body.code, err: cause }, 'request failed');
    } else {
      request.log.info({ status: problem.status, code: problem.body.code }, 'request rejected');
    }
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((request, reply) => {
    const context = problemContext(request);
    return sendProblem(reply, {
      status: 404,
      body: buildProblem(404, 'route_not_found', `No route ${request.method} ${context.instance}.`, context),
      headers: {},
      unexpected: false,
    });
  });
}
