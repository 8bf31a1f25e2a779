import { errorResponses, type NovaApp, requirePrincipal } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import { clientInfo } from '../domain/client-info.js';
import type { AuthHandlers } from './auth-handlers.js';
import {
  Empty,
  LoginBody,
  RefreshBody,
  TokenPairSchema,
  TwoFactorLoginBody,
  TwoFactorRequiredSchema,
} from './schemas.js';

const tags = ['auth'];

export function registerLoginRoutes(app: NovaApp, auth: AuthHandlers): void {
  app.post(
    '/auth/login',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Log in with email or username and password',
        description:
          'Answers tokens, or `{twoFactorRequired, challengeId}` when 2FA is on. 401 `invalid_credentials` for an ' +
          'unknown login or a wrong password alike; 429 `too_many_attempts` with Retry-After after repeated failures.',
        tags,
        body: LoginBody,
        response: {
          200: Type.Union([TokenPairSchema, TwoFactorRequiredSchema]),
          ...errorResponses(400, 401, 413, 415, 429),
        },
      },
    },
    async (request) => auth.logins.login(request.body, clientInfo(request.headers['user-agent'], request.ip)),
  );

  app.post(
    '/auth/login/2fa',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Second login step: a TOTP code or a backup code',
        description:
          '401 `invalid_code` for a wrong or reused code, `invalid_challenge` for an unknown or spent challenge.',
        tags,
        body: TwoFactorLoginBody,
        response: { 200: TokenPairSchema, ...errorResponses(400, 401, 413, 415, 429) },
      },
    },
    async (request) => auth.logins.completeTwoFactor(request.body),
  );

  app.post(
    '/auth/refresh',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Exchange a refresh token for a new pair (rotation)',
        description:
          'A refresh token works once. Presented again within REFRESH_REUSE_GRACE_SECONDS of its use (two tabs, a ' +
          'retry), it gets another pair of the same session; later, 401 `refresh_token_reused` and its whole family is revoked.',
        tags,
        body: RefreshBody,
        response: { 200: TokenPairSchema, ...errorResponses(400, 401, 413, 415) },
      },
    },
    async (request) => auth.sessions.refresh(request.body.refreshToken),
  );

  app.post(
    '/auth/logout',
    {
      schema: {
        summary: 'End the current session',
        description: 'The access token and its refresh family stop working at once.',
        tags,
        response: { 204: Empty, ...errorResponses(401) },
      },
    },
    async (request, reply) => {
      await auth.sessions.logout(requirePrincipal(request));
      return reply.code(204).send(null);
    },
  );
}
