import { errorResponses, type NovaApp, requirePrincipal } from '@nova/kernel';
import type { AuthHandlers } from './auth-handlers.js';
import { Accepted, ChangePasswordBody, Empty, ForgotPasswordBody, ResetPasswordBody } from './schemas.js';

const tags = ['auth'];

export function registerPasswordRoutes(app: NovaApp, auth: AuthHandlers): void {
  app.post(
    '/auth/password/change',
    {
      schema: {
        summary: 'Change the password',
        description:
          'Every other session is revoked. 400 `invalid_current_password` when the current one is wrong.',
        tags,
        body: ChangePasswordBody,
        response: { 204: Empty, ...errorResponses(400, 401, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      await auth.passwords.change(requirePrincipal(request), request.body, request.ip ?? null);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/auth/password/forgot',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Ask for a password reset link',
        description: 'Always 202, whether or not an account has this address.',
        tags,
        body: ForgotPasswordBody,
        response: { 202: Accepted, ...errorResponses(400, 413, 415) },
      },
    },
    async (request, reply) => {
      auth.passwords.forgot(request.body.email);
      return reply.code(202).send({ status: 'accepted' as const });
    },
  );

  app.post(
    '/auth/password/reset',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Set a new password with the token from the reset mail',
        description: 'Single use, valid 1 hour; every session is revoked. 400 `invalid_token` otherwise.',
        tags,
        body: ResetPasswordBody,
        response: { 204: Empty, ...errorResponses(400, 413, 415) },
      },
    },
    async (request, reply) => {
      await auth.passwords.reset(request.body);
      return reply.code(204).send(null);
    },
  );
}
