import { errorResponses, type NovaApp, requirePrincipal } from '@nova/kernel';
import type { AuthHandlers } from './auth-handlers.js';
import { Accepted, DeleteAccountBody, RegisterBody, TokenBody, UserResponse } from './schemas.js';

const tags = ['auth'];

export function registerAccountRoutes(app: NovaApp, auth: AuthHandlers): void {
  app.post(
    '/auth/register',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Create an account',
        description:
          'Sends a verification link to the address. 409 `email_taken` or `username_taken`; 429 ' +
          '`too_many_registrations` with Retry-After past REGISTER_MAX_PER_IP sign-ups per REGISTER_WINDOW_SECONDS from one address.',
        tags,
        body: RegisterBody,
        response: { 201: UserResponse, ...errorResponses(400, 409, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const user = await auth.accounts.register(request.body, request.ip ?? null);
      return reply.code(201).send({ user });
    },
  );

  app.post(
    '/auth/verify-email',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Confirm an email address with the token from the mail',
        description: '400 `invalid_token` for an unknown, expired or used token.',
        tags,
        body: TokenBody,
        response: { 200: UserResponse, ...errorResponses(400, 413, 415) },
      },
    },
    async (request) => ({ user: await auth.accounts.verifyEmail(request.body.token) }),
  );

  app.delete(
    '/users/me',
    {
      schema: {
        summary: 'Delete the caller’s account',
        description:
          'Needs the current password, and a TOTP or backup code when 2FA is on: 401 `invalid_password`, ' +
          '`code_required` or `invalid_code` otherwise (429 `too_many_attempts` after repeated failures). ' +
          'Credentials go at once; every service removes the account’s data on `user.deleted`.',
        tags: ['users'],
        body: DeleteAccountBody,
        response: { 202: Accepted, ...errorResponses(400, 401, 404, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      await auth.accounts.deleteAccount(requirePrincipal(request), request.body, request.ip ?? null);
      return reply.code(202).send({ status: 'accepted' as const });
    },
  );
}
