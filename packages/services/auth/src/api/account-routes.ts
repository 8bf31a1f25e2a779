import { errorResponses, type NovaApp, requirePrincipal } from '@nova/kernel';
import type { AuthContext } from '../context.js';
import { deleteAccount, register, verifyEmail } from '../use-cases/accounts.js';
import { Accepted, RegisterBody, TokenBody, UserResponse } from './schemas.js';

const tags = ['auth'];

export function registerAccountRoutes(app: NovaApp, ctx: AuthContext): void {
  app.post(
    '/auth/register',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Create an account',
        description: 'Sends a verification link to the address. 409 `email_taken` or `username_taken`.',
        tags,
        body: RegisterBody,
        response: { 201: UserResponse, ...errorResponses(400, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const user = await register(ctx, request.body);
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
    async (request) => ({ user: await verifyEmail(ctx, request.body.token) }),
  );

  app.delete(
    '/users/me',
    {
      schema: {
        summary: 'Delete the caller’s account',
        description: 'Credentials go at once; every service removes the account’s data on `user.deleted`.',
        tags: ['users'],
        response: { 202: Accepted, ...errorResponses(401, 404) },
      },
    },
    async (request, reply) => {
      await deleteAccount(ctx, requirePrincipal(request));
      return reply.code(202).send({ status: 'accepted' as const });
    },
  );
}
