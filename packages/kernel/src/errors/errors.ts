/**
 * The one error taxonomy of Nova. Every error that reaches a client is one of
 * these (or becomes an InternalError), rendered as RFC 9457 problem+json by
 * the HTTP error handler — the only place errors are mapped to responses.
 */
export interface FieldIssue {
  /** JSON pointer-ish path of the failing field, e.g. "/email". */
  field: string;
  message: string;
}

export abstract class NovaError extends Error {
  abstract readonly status: number;
  /** Stable, machine-readable code (snake_case). Clients branch on it. */
  readonly code: string;
  /** Extra members added to the problem document (must be safe to show). */
  readonly extensions: Record<string, unknown>;

  constructor(
    code: string,
    message: string,
    extensions: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.extensions = extensions;
  }
}

export class ValidationError extends NovaError {
  readonly status = 400;
  constructor(
    message = 'The request is invalid.',
    readonly issues: FieldIssue[] = [],
    code = 'validation_failed',
  ) {
    super(code, message, issues.length > 0 ? { errors: issues } : {});
  }
}

/** Well-formed but semantically unacceptable (422). */
export class UnprocessableError extends NovaError {
  readonly status = 422;
}

export class UnauthenticatedError extends NovaError {
  readonly status = 401;
  constructor(code = 'unauthenticated', message = 'Authentication is required.') {
    super(code, message);
  }
}

export class ForbiddenError extends NovaError {
  readonly status = 403;
  constructor(code = 'forbidden', message = 'You may not do this.') {
    super(code, message);
  }
}

export class NotFoundError extends NovaError {
  readonly status = 404;
  constructor(code = 'not_found', message = 'The resource does not exist.') {
    super(code, message);
  }
}

export class ConflictError extends NovaError {
  readonly status = 409;
}

export class PayloadTooLargeError extends NovaError {
  readonly status = 413;
  constructor(code = 'payload_too_large', message = 'The request body is too large.') {
    super(code, message);
  }
}

export class UnsupportedMediaTypeError extends NovaError {
  readonly status = 415;
  constructor(code = 'unsupported_media_type', message = 'The content type is not supported.') {
    super(code, message);
  }
}

/** A byte range past the end of the resource (416); the renderer adds a Content-Range header naming the size. */
export class RangeNotSatisfiableError extends NovaError {
  readonly status = 416;
  constructor(readonly size: number) {
    super('range_not_satisfiable', 'The requested range is outside the resource.', { size });
  }
}

export class RateLimitedError extends NovaError {
  readonly status = 429;
  constructor(
    readonly retryAfterSeconds: number,
    code = 'rate_limited',
    message = 'Too many requests; retry later.',
  ) {
    super(code, message, { retryAfter: retryAfterSeconds });
  }
}

/** How long a client should wait before retrying after a 503, unless the error says otherwise. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

export class UnavailableError extends NovaError {
  readonly status = 503;
  /** Sent as Retry-After: an outage answer always tells the client when to come back. */
  readonly retryAfterSeconds: number;
  constructor(
    code = 'unavailable',
    message = 'The service is temporarily unavailable.',
    options?: ErrorOptions & { retryAfterSeconds?: number },
  ) {
    const retryAfterSeconds = options?.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
    super(code, message, { retryAfter: retryAfterSeconds }, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class InternalError extends NovaError {
  readonly status = 500;
  constructor(options?: ErrorOptions) {
    super('internal_error', 'An unexpected error occurred.', {}, options);
  }
}

/**
 * Infrastructure failures are classified so retry logic can decide without
 * string matching: transient ones (timeouts, connection resets, broker
 * rebalances) are retried; fatal ones (bad payload, contract violation) go
 * straight to the dead-letter topic.
 */
export class TransientError extends Error {
  readonly transient = true as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransientError';
  }
}

export class FatalError extends Error {
  readonly transient = false as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FatalError';
  }
}

const TRANSIENT_NODE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);
// PostgreSQL SQLSTATE classes/codes worth retrying: serialization failure,
// deadlock, connection exceptions, admin shutdown, too many connections.
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '53300']);

/** True when retrying the same operation may succeed. Unknown errors count as transient. */
export function isTransient(error: unknown): boolean {
  if (error instanceof FatalError) return false;
  if (error instanceof TransientError) return true;
  if (error instanceof NovaError) return error.status === 503 || error.status === 429;
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (TRANSIENT_NODE_CODES.has(code) || TRANSIENT_SQLSTATES.has(code) || code.startsWith('08'))
        return true;
      // Any other SQLSTATE (constraint, syntax, data) will fail again the same way.
      if (/^[0-9A-Z]{5}$/.test(code)) return false;
    }
    const retriable = (error as { retriable?: unknown }).retriable; // kafkajs marks its errors
    if (typeof retriable === 'boolean') return retriable;
  }
  return true;
}
