import { context as otelContext } from '@opentelemetry/api';
import { ConnectionHeldError, heldConnectionSchema } from '../db/held-connection.js';
import type { CallOptions, SyncApiClient, SyncApiDefinition, SyncApiHandlers } from './definition.js';

/**
 * The binding for a service that runs in the caller's process: a direct call.
 * Nothing is validated or serialised (the type checker holds both sides to the
 * schemas' static types), there is no deadline or breaker (a function call
 * cannot be partitioned away); the trace context is simply the active one.
 *
 * A call from inside a transaction on the embedded database is refused
 * (ConnectionHeldError naming the method): the callee shares that database's
 * one connection, which the caller's transaction holds. Refused every time,
 * not only when the callee happens to miss its cache and hang.
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
    client[method] = async (request: unknown, options?: CallOptions) => {
      const holder = heldConnectionSchema();
      if (holder !== undefined) throw new ConnectionHeldError(`${definition.service}.${method}`, holder);
      return handler(request, {
        caller: 'in-process',
        principal: options?.principal,
        trace: otelContext.active(),
      });
    };
  }
  return client as SyncApiClient<D>;
}
