import type { IncomingHttpHeaders } from 'node:http';
import {
  forwardedPrincipalHeaders,
  PRINCIPAL_HEADER,
  PRINCIPAL_SIGNATURE_HEADER,
  type Principal,
} from '@nova/kernel';
import { context, propagation } from '@opentelemetry/api';

export interface ForwardContext {
  /** The client's address as the gateway determined it (its own trusted proxies honoured). */
  ip: string;
  /** The Host and scheme the client used. */
  host: string | undefined;
  protocol: string;
  requestId: string;
  principal: Principal | undefined;
  internalToken: string | undefined;
}

/**
 * The headers a request carries upstream: the client's own, minus anything
 * claiming an identity (only the gateway's signed principal is passed), plus
 * who the client is (X-Forwarded-*), the request id and the trace context.
 */
export function forwardHeaders(
  incoming: IncomingHttpHeaders,
  forward: ForwardContext,
): Record<string, string | string[] | undefined> {
  const headers: Record<string, string | string[] | undefined> = { ...incoming };
  delete headers[PRINCIPAL_HEADER];
  delete headers[PRINCIPAL_SIGNATURE_HEADER];
  // The gateway decided who the client is; what it claimed before does not travel on.
  headers['x-forwarded-for'] = forward.ip;
  headers['x-forwarded-proto'] = forward.protocol;
  if (forward.host) headers['x-forwarded-host'] = forward.host;
  headers['x-request-id'] = forward.requestId;
  if (forward.principal && forward.internalToken)
    Object.assign(headers, forwardedPrincipalHeaders(forward.principal, forward.internalToken));
  propagation.inject(context.active(), headers);
  return headers;
}
