import { context as otelContext } from '@opentelemetry/api';
import type { CallOptions, SyncApiClient, SyncApiDefinition, SyncApiHandlers } from './definition.js';

/**
 * The binding for a service that runs in the caller's process: a direct call.
 * Nothing is validated or serialised (the type checker holds both sides to the
 * schemas' static types), there is no deadline or breaker (a function call
 * cannot be partitioned away); the trace context is simply the active one.
 */
export function bindInProcess<D extends SyncApiDefinition>(
  definition: D,
  handlers: SyncApiHandlers<D>,
): SyncApiClient<D> {
  const client: Record<string, unknown> = {};
  for (const method of Object.keys(definition.methods)) {
    const handler = (handlers as Record<string, (req: unknown, ctx: unknown) => Promise<unknown>>)[method];
    if (typeof handler !== 'function') {
      throw new TypeError(`${definition.service} sync API: no handler for "${method}"`);
    }
    client[method] = (request: unknown, options?: CallOptions) =>
      handler(request, { caller: 'in-process', principal: options?.principal, trace: otelContext.active() });
  }
  return client as SyncApiClient<D>;
}
