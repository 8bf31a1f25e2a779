import type { Context } from '@opentelemetry/api';
import type { Static, TSchema } from '@sinclair/typebox';
import type { Principal } from '../principal.js';

/** One method of a sync API: its request and response schemas, and whether a retry is safe. */
export interface SyncMethod<Req extends TSchema = TSchema, Res extends TSchema = TSchema> {
  request: Req;
  response: Res;
  /** Reads are idempotent: the network binding may retry them; writes are never retried. */
  idempotent: boolean;
  /** Default per-call deadline of the network binding (ms); callers may pass a shorter one. */
  deadlineMs?: number;
}

export type SyncMethods = Record<string, SyncMethod>;

/**
 * A service's batch-first sync API, declared once (in @nova/contracts). Both
 * bindings derive from it: the in-process one calls the handlers directly,
 * the gRPC one builds its service definition and validates requests with
 * these schemas.
 */
export interface SyncApiDefinition<M extends SyncMethods = SyncMethods> {
  /** The owning service (the module name, and NOVA_<SERVICE>_URL's <SERVICE>). */
  service: string;
  /** Bumped on an incompatible change; part of the gRPC path (`/nova.<service>.v<version>.Api/<method>`). */
  version: number;
  methods: M;
}

export function defineSyncApi<const M extends SyncMethods>(
  service: string,
  version: number,
  methods: M,
): SyncApiDefinition<M> {
  return { service, version, methods };
}

/** What a caller may pass with a call besides the request. */
export interface CallOptions {
  /** The end user on whose behalf the call is made; the callee sees it in CallContext. */
  principal?: Principal;
  /** Overrides the method's deadline (network binding only). */
  deadlineMs?: number;
}

/** What a handler learns about the call besides the request. */
export interface CallContext {
  /** The calling service (`in-process` for a direct call). */
  caller: string;
  principal?: Principal;
  /** The caller's trace context (OpenTelemetry), extracted from W3C traceparent on the network. */
  trace: Context;
}

export type SyncRequest<M extends SyncMethod> = Static<M['request']>;
export type SyncResponse<M extends SyncMethod> = Static<M['response']>;

/** The caller's view of an API: one async function per method. */
export type SyncApiClient<D extends SyncApiDefinition> = {
  [K in keyof D['methods']]: (
    request: SyncRequest<D['methods'][K]>,
    options?: CallOptions,
  ) => Promise<SyncResponse<D['methods'][K]>>;
};

/** The owning service's implementation of an API. */
export type SyncApiHandlers<D extends SyncApiDefinition> = {
  [K in keyof D['methods']]: (
    request: SyncRequest<D['methods'][K]>,
    context: CallContext,
  ) => Promise<SyncResponse<D['methods'][K]>>;
};
