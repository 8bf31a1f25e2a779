import { NovaError } from '../errors/errors.js';
import type { Problem } from './schemas.js';

/** What a response needs to render one problem document. */
export interface ProblemRender {
  status: number;
  body: Problem;
  headers: Record<string, string>;
  /** True for errors nobody anticipated: logged with their stack, detail hidden. */
  unexpected: boolean;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problemTitle(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

/** Builds the RFC 9457 body; `type` is derived from the stable code. */
export function buildProblem(
  status: number,
  code: string,
  detail: string,
  context: { traceId: string; instance: string },
  extensions: Record<string, unknown> = {},
): Problem {
  return {
    ...extensions,
    type: `urn:nova:problem:${code}`,
    title: problemTitle(status),
    status,
    code,
    detail,
    instance: context.instance,
    traceId: context.traceId,
  };
}

/** Renders a NovaError; its message and extensions are safe to show by contract. */
export function renderNovaError(
  error: NovaError,
  context: { traceId: string; instance: string },
): ProblemRender {
  const headers: Record<string, string> = {};
  const retryAfter = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  if (typeof retryAfter === 'number') headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfter)));
  if (error.status === 416 && typeof error.extensions.size === 'number')
    headers['content-range'] = `bytes */${error.extensions.size}`;
  return {
    status: error.status,
    body: buildProblem(error.status, error.code, error.message, context, error.extensions),
    headers,
    unexpected: error.status >= 500 && !(error.status === 503),
  };
}

export function isNovaError(error: unknown): error is NovaError {
  return error instanceof NovaError;
}
