import { API_PREFIX, type NovaApp } from '@nova/kernel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSocialFixture, type SocialFixture } from './support/fixture.js';

// Route-level suite: social booted as production boots it (schemas, auth edge,
// problem+json) over the real store; auth's stand-in maps "token-<userId>" to a principal.
describe('social routes', () => {
  let f: SocialFixture;
  let app: NovaApp;
  let users: string[];

  beforeAll(async () => {
    f = await openSocialFixture('pglite');
    app = f.nova.app;
    users = await f.addUsers(3);
  });
  afterAll(async () => {
    await f?.close();
  });

  const call = async (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    as?: string,
    payload?: object,
  ) => {
    const response = await app.inject({
      method,
      url: `${API_PREFIX}${url}`,
      headers: as ? { authorization: `Bearer token-${as}` } : {},
      ...(payload ? { payload } : {}),
    });
    return {
      status: response.statusCode,
      body: response.body ? (response.json() as Record<string, unknown>) : {},
    };
  };

  it('serves /users/me and /users/suggestions ahead of /users/{username}', async () => {
    const [a] = users as [string];
    const me = await call('GET', '/users/me', a);
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(a);
    expect((await call('GET', '/users/suggestions', a)).body).toEqual({ items: [], nextCursor: null });
    expect((await call('GET', '/users/me')).status).toBe(401);
    const byName = await call('GET', `/users/${String(me.body.username).toUpperCase()}`);
    expect(byName.status).toBe(200);
    expect(byName.body.relationship).toBeUndefined();
  });

  it('answers clear 4xx for bad input and never a 500', async () => {
    const [a, b] = users as [string, string];
    const self = await call('POST', `/users/${a}/follow`, a);
    expect(self).toMatchObject({ status: 422, body: { code: 'cannot_follow_self' } });
    expect((await call('POST', '/users/bad%20id/follow', a)).status).toBe(400);
    expect((await call('POST', `/users/${'x'.repeat(65)}/block`, a)).status).toBe(400);
    expect((await call('POST', '/users/unknown-user/follow', a)).body).toMatchObject({
      code: 'user_not_found',
    });
    expect((await call('GET', `/users/${b}/followers?cursor=%%%`, a)).status).toBe(400);
    expect((await call('GET', `/users/${b}/followers?cursor=eyJ4IjoxfQ`, a)).body).toMatchObject({
      code: 'invalid_cursor',
    });
    expect((await call('GET', `/users/${b}/followers?limit=101`, a)).status).toBe(400);
    expect((await call('PATCH', '/users/me', a, { bio: 'x'.repeat(301) })).status).toBe(400);
    expect((await call('PATCH', '/users/me', a, { unknownField: 1 })).status).toBe(400);
    expect((await call('POST', `/follow-requests/${b}/accept`, a)).body).toMatchObject({
      code: 'follow_request_not_found',
    });
    expect((await call('POST', `/users/${b}/mute`, 'someone-without-profile')).body).toMatchObject({
      code: 'profile_pending',
    });
  });

  it('follows, lists and blocks over HTTP with the documented status codes', async () => {
    const [a, b, c] = users as [string, string, string];
    expect((await call('POST', `/users/${b}/follow`, a)).body).toEqual({ state: 'following' });
    expect((await call('POST', `/users/${b}/follow`, a)).body).toEqual({ state: 'following' });
    expect((await call('PATCH', '/users/me', c, { isPrivate: true })).body).toMatchObject({
      isPrivate: true,
    });
    expect((await call('POST', `/users/${c}/follow`, a)).body).toEqual({ state: 'requested' });
    const pending = await call('GET', '/follow-requests', c);
    expect((pending.body.items as { user: { id: string } }[]).map((i) => i.user.id)).toEqual([a]);
    expect((await call('GET', `/users/${c}/following`, a)).status).toBe(403);
    expect((await call('POST', `/follow-requests/${a}/accept`, c)).status).toBe(204);
    expect((await call('GET', `/users/${c}/followers`, a)).body).toMatchObject({
      items: [{ id: a }],
      nextCursor: null,
    });

    const followers = await call('GET', `/users/${b}/followers?limit=1`);
    expect(followers).toMatchObject({
      status: 200,
      body: { items: [{ id: a, followingCount: 2 }], nextCursor: null },
    });
    expect((await call('POST', `/users/${a}/block`, b)).status).toBe(204);
    expect((await call('POST', `/users/${a}/block`, b)).status).toBe(204);
    expect((await call('GET', `/users/${b}/followers`, a)).status).toBe(404);
    expect((await call('POST', `/users/${b}/follow`, a)).status).toBe(404);
    const profileOfB = await call('GET', '/users/me', b);
    expect(profileOfB.body.followerCount).toBe(0);
    expect((await call('DELETE', `/users/${a}/block`, b)).status).toBe(204);
    expect((await call('DELETE', `/users/${b}/follow`, a)).status).toBe(204);
    expect((await call('POST', `/users/${b}/mute`, a)).status).toBe(204);
    expect((await call('DELETE', `/users/${b}/mute`, a)).status).toBe(204);
    const withRelationship = await call('GET', `/users/${profileOfB.body.username}`, a);
    expect(withRelationship.body.relationship).toMatchObject({
      following: false,
      blockedBy: false,
      muting: false,
    });
  });

  it('filters blocked accounts out of lists and keeps private lists from anonymous callers', async () => {
    const [owner, viewer, blocked, fan] = await f.addUsers(4);
    for (const follower of [blocked, fan, viewer]) await call('POST', `/users/${owner}/follow`, follower);
    expect((await call('POST', `/users/${blocked}/block`, viewer)).status).toBe(204);
    const list = (as?: string) => call('GET', `/users/${owner}/followers`, as);
    const ids = (r: { body: Record<string, unknown> }) => (r.body.items as { id: string }[]).map((i) => i.id);
    expect(ids(await list(viewer))).toEqual([viewer, fan]);
    expect(ids(await list())).toEqual([viewer, fan, blocked]);
    expect(ids(await list(blocked))).toEqual([fan, blocked]);

    expect((await call('PATCH', '/users/me', owner, { isPrivate: true })).status).toBe(200);
    for (const direction of ['followers', 'following']) {
      const anonymous = await call('GET', `/users/${owner}/${direction}`);
      expect(anonymous).toMatchObject({ status: 403, body: { code: 'private_account' } });
      const stranger = await call('GET', `/users/${owner}/${direction}`, users[0]);
      expect(stranger).toMatchObject({ status: 403, body: { code: 'private_account' } });
      expect((await call('GET', `/users/${owner}/${direction}`, fan)).status).toBe(200);
    }
    const description = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, { get: { description: string } }>;
    };
    expect(description.paths['/api/v1/users/{id}/followers']?.get.description).toContain('anonymous callers');
    expect(description.paths['/api/v1/users/{username}']?.get.description).toContain('private account');
  });

  it('documents every route in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, object>;
    };
    for (const path of [
      '/api/v1/users/me',
      '/api/v1/users/suggestions',
      '/api/v1/users/{username}',
      '/api/v1/users/{id}/follow',
      '/api/v1/users/{id}/followers',
      '/api/v1/users/{id}/following',
      '/api/v1/users/{id}/block',
      '/api/v1/users/{id}/mute',
      '/api/v1/follow-requests',
      '/api/v1/follow-requests/{id}/accept',
      '/api/v1/follow-requests/{id}/reject',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
  });
});
