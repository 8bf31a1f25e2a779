import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Principal } from '../principal.js';

/** The Fastify instance every service registers its routes on. */
export type NovaApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** The one place the public API version prefix is declared. */
export const API_PREFIX = '/api/v1';

/**
 * Route access: "required" (the default: no `config.auth` means required),
 * "optional" (principal when a valid token is sent) or "public" (never
 * looks at the token). Public routes opt out explicitly.
 */
export type RouteAuth = 'required' | 'optional' | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
    /**
     * Also accept the access token as `?accessToken=` when no Authorization
     * header is sent: for WebSocket upgrades from browsers, which cannot set
     * headers. The query value never reaches the logs.
     */
    acceptQueryToken?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}
