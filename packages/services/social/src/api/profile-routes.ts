import { errorResponses, type NovaApp, requirePrincipal } from '@nova/kernel';
import { ProfilePatchSchema, ProfileSchema, PublicProfileSchema, UsernameParam } from './schemas.js';
import type { SocialHandlers } from './social-handlers.js';

export function registerProfileRoutes(app: NovaApp, social: SocialHandlers): void {
  app.get(
    '/users/me',
    {
      schema: {
        tags: ['users'],
        summary: "The caller's profile",
        description: '404 `profile_not_found` for a moment after sign-up, until the profile is created.',
        response: { 200: ProfileSchema, ...errorResponses(401, 404) },
      },
    },
    async (request) => social.queries.me(requirePrincipal(request).userId),
  );

  app.patch(
    '/users/me',
    {
      schema: {
        tags: ['users'],
        summary: "Edit the caller's profile",
        description:
          'Absent fields stay unchanged, null clears a field. Setting `isPrivate: false` on a private account approves all its pending follow requests.',
        body: ProfilePatchSchema,
        response: { 200: ProfileSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => social.profiles.update(requirePrincipal(request).userId, request.body),
  );

  app.get(
    '/users/:username',
    {
      config: { auth: 'optional' },
      schema: {
        tags: ['users'],
        summary: 'A profile by username',
        description:
          'With a token, includes `relationship` to the caller; 404 when the account does not exist or either side blocks the other. A private account shows the same card to everyone who may see it at all (anonymous callers and non-followers alike): username, display name, avatar, bio and counts, which is what one decides a follow request on. Its connections (and, later, its posts) are for the owner and approved followers only.',
        params: UsernameParam,
        response: { 200: PublicProfileSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => social.queries.byUsername(request.principal?.userId, request.params.username),
  );
}
