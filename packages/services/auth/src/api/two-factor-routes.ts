import { errorResponses, type NovaApp, requirePrincipal } from '@nova/kernel';
import type { AuthHandlers } from './auth-handlers.js';
import { BackupCodesResponse, CodeBody, Empty, TwoFactorSetupResponse } from './schemas.js';

const tags = ['auth'];

export function registerTwoFactorRoutes(app: NovaApp, auth: AuthHandlers): void {
  app.post(
    '/auth/2fa/setup',
    {
      schema: {
        summary: 'Start TOTP setup',
        description:
          'A new secret, pending until confirmed by /2fa/enable. 409 `two_factor_enabled` when already on.',
        tags,
        response: { 200: TwoFactorSetupResponse, ...errorResponses(401, 409) },
      },
    },
    async (request) => auth.twoFactor.setup(requirePrincipal(request)),
  );

  app.post(
    '/auth/2fa/enable',
    {
      schema: {
        summary: 'Confirm TOTP setup with a current code',
        description: 'Answers ten single-use backup codes. 400 `invalid_code` for a wrong code.',
        tags,
        body: CodeBody,
        response: { 200: BackupCodesResponse, ...errorResponses(400, 401, 409, 413, 415, 429) },
      },
    },
    async (request) => ({
      backupCodes: await auth.twoFactor.enable(requirePrincipal(request), request.body.code),
    }),
  );

  app.post(
    '/auth/2fa/disable',
    {
      schema: {
        summary: 'Turn 2FA off with a TOTP or backup code',
        description: '400 `invalid_code` for a wrong or used code.',
        tags,
        body: CodeBody,
        response: { 204: Empty, ...errorResponses(400, 401, 409, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      await auth.twoFactor.disable(requirePrincipal(request), request.body.code);
      return reply.code(204).send(null);
    },
  );
}
