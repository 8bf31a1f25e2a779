import { errorResponses, IdParam, type NovaApp, requirePrincipal } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import type { SocialHandlers } from './social-handlers.js';

const NoContent = Type.Null({ description: 'Done.' });

type EdgeAction = (actorId: string, targetId: string) => Promise<void>;

export function registerBlockRoutes(app: NovaApp, social: SocialHandlers): void {
  const routes: { method: 'POST' | 'DELETE'; kind: 'block' | 'mute'; summary: string; action: EdgeAction }[] =
    [
      {
        method: 'POST',
        kind: 'block',
        summary: 'Block an account: removes follows and pending requests in both directions',
        action: social.blocks.block,
      },
      { method: 'DELETE', kind: 'block', summary: 'Unblock an account', action: social.blocks.unblock },
      {
        method: 'POST',
        kind: 'mute',
        summary: "Mute an account: hidden from the caller's feed and suggestions",
        action: social.blocks.mute,
      },
      { method: 'DELETE', kind: 'mute', summary: 'Unmute an account', action: social.blocks.unmute },
    ];
  for (const { method, kind, summary, action } of routes) {
    app.route({
      method,
      url: `/users/:id/${kind}`,
      schema: {
        tags: ['blocks'],
        summary,
        description: `Idempotent. 404 when the account does not exist${method === 'POST' ? `; 422 \`cannot_${kind}_self\`` : ''}.`,
        params: IdParam,
        response: {
          204: NoContent,
          ...errorResponses(400, 401, 404, 409, ...(method === 'POST' ? [422] : [])),
        },
      },
      handler: async (request, reply) => {
        await action(requirePrincipal(request).userId, request.params.id);
        return reply.code(204).send(null);
      },
    });
  }
}
