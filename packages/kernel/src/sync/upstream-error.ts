import { UnavailableError } from '../errors/errors.js';

/**
 * Another service could not answer in time (deadline, connection, open
 * circuit). It is an outage, not the caller's fault: 503 with Retry-After at
 * the edge. `reason` is for logs; the client sees only the generic message.
 */
export class UpstreamUnavailableError extends UnavailableError {
  constructor(
    readonly upstream: string,
    readonly reason: string,
    retryAfterSeconds = 1,
    options?: ErrorOptions,
  ) {
    super('upstream_unavailable', `The ${upstream} service is temporarily unavailable.`, {
      ...options,
      retryAfterSeconds,
    });
  }
}
