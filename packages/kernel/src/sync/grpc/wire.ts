import { status as GrpcStatus, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api';
import {
  ConflictError,
  type FieldIssue,
  ForbiddenError,
  InternalError,
  NotFoundError,
  NovaError,
  PayloadTooLargeError,
  RateLimitedError,
  UnauthenticatedError,
  UnavailableError,
  UnprocessableError,
  ValidationError,
} from '../../errors/errors.js';
import { unavailableFrom } from '../../errors/infrastructure.js';
import type { Principal } from '../../principal.js';
import type { SyncApiDefinition } from '../definition.js';

/** The gRPC path of a method: one service per API and version, JSON messages. */
export function methodPath(definition: SyncApiDefinition, method: string): string {
  return `/nova.${definition.service}.v${definition.version}.Api/${method}`;
}

// Messages are the schemas' JSON (ADR 015): one source of truth, no generated protobuf.
export const serialize = (value: unknown): Buffer => Buffer.from(JSON.stringify(value ?? null));

/** Marks a body that was not JSON; the server answers INVALID_ARGUMENT instead of crashing. */
export const UNPARSABLE = Symbol('unparsable');
export function deserialize(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return UNPARSABLE;
  }
}

/** Metadata keys: the internal credential, the end user, the caller, and the error envelope. */
export const META = {
  authorization: 'authorization',
  principal: 'nova-principal',
  caller: 'nova-caller',
  error: 'nova-error',
} as const;

export const metadataSetter: TextMapSetter<Metadata> = {
  set: (carrier, key, value) => carrier.set(key, value),
};
export const metadataGetter: TextMapGetter<Metadata> = {
  keys: (carrier) => Object.keys(carrier.getMap()),
  get: (carrier, key) => {
    const values = carrier.get(key).map(String);
    return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
  },
};

export function readPrincipal(metadata: Metadata): Principal | undefined | 'invalid' {
  const raw = metadata.get(META.principal)[0];
  if (raw === undefined) return undefined;
  try {
    const value = JSON.parse(String(raw)) as Partial<Principal>;
    if (
      typeof value.userId === 'string' &&
      typeof value.sessionId === 'string' &&
      typeof value.tokenId === 'string' &&
      typeof value.expiresAt === 'number'
    )
      return {
        userId: value.userId,
        sessionId: value.sessionId,
        tokenId: value.tokenId,
        expiresAt: value.expiresAt,
      };
  } catch {
    // fall through
  }
  return 'invalid';
}

const STATUS_BY_HTTP: Record<number, GrpcStatus> = {
  400: GrpcStatus.INVALID_ARGUMENT,
  401: GrpcStatus.UNAUTHENTICATED,
  403: GrpcStatus.PERMISSION_DENIED,
  404: GrpcStatus.NOT_FOUND,
  409: GrpcStatus.ALREADY_EXISTS,
  413: GrpcStatus.INVALID_ARGUMENT,
  415: GrpcStatus.INVALID_ARGUMENT,
  422: GrpcStatus.FAILED_PRECONDITION,
  429: GrpcStatus.RESOURCE_EXHAUSTED,
  503: GrpcStatus.UNAVAILABLE,
};

/** What travels in the `nova-error` trailer: a NovaError's public parts, nothing else. */
interface ErrorEnvelope {
  status: number;
  code: string;
  message: string;
  extensions: Record<string, unknown>;
  retryAfterSeconds?: number;
}

/** A handler's error as a gRPC status; only NovaErrors' (client-safe) parts cross the wire. */
export function toServiceError(thrown: unknown): Partial<ServiceError> {
  // An outage of the callee's own stores is a 503 here as at its HTTP edge (one classification).
  const error = unavailableFrom(thrown) ?? thrown;
  const metadata = new Metadata();
  if (!(error instanceof NovaError) || error.status === 500) {
    // The envelope tells the caller it was the handler (a bug: not retried), not the transport.
    const envelope: ErrorEnvelope = {
      status: 500,
      code: 'internal_error',
      message: 'internal error',
      extensions: {},
    };
    metadata.set(META.error, JSON.stringify(envelope));
    return { code: GrpcStatus.INTERNAL, details: 'internal error', metadata };
  }
  const envelope: ErrorEnvelope = {
    status: error.status,
    code: error.code,
    message: error.message,
    extensions: error.extensions,
  };
  const retryAfter = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  if (typeof retryAfter === 'number') envelope.retryAfterSeconds = retryAfter;
  metadata.set(META.error, JSON.stringify(envelope));
  return { code: STATUS_BY_HTTP[error.status] ?? GrpcStatus.INTERNAL, details: error.message, metadata };
}

/**
 * The callee's NovaError rebuilt on the caller's side, or undefined when the
 * status came from the transport (no envelope): the caller decides then.
 */
export function fromServiceError(error: ServiceError): NovaError | undefined {
  const raw = error.metadata?.get(META.error)[0];
  if (raw === undefined) return undefined;
  let e: ErrorEnvelope;
  try {
    e = JSON.parse(String(raw)) as ErrorEnvelope;
  } catch {
    return new InternalError({ cause: error });
  }
  switch (e.status) {
    case 400:
      return new ValidationError(e.message, (e.extensions.errors as FieldIssue[] | undefined) ?? [], e.code);
    case 401:
      return new UnauthenticatedError(e.code, e.message);
    case 403:
      return new ForbiddenError(e.code, e.message);
    case 404:
      return new NotFoundError(e.code, e.message);
    case 409:
      return new ConflictError(e.code, e.message, e.extensions);
    case 413:
      return new PayloadTooLargeError(e.code, e.message);
    case 422:
      return new UnprocessableError(e.code, e.message, e.extensions);
    case 429:
      return new RateLimitedError(e.retryAfterSeconds ?? 1, e.code, e.message);
    case 503:
      return new UnavailableError(e.code, e.message, {
        cause: error,
        retryAfterSeconds: e.retryAfterSeconds,
      });
    default:
      return new InternalError({ cause: error });
  }
}
