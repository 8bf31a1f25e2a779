import { contentSyncApi, NOVA_CONTRACTS } from '@nova/contracts';
import { createLogger, createMetricsRegistry, UnauthenticatedError } from '@nova/kernel';
import type { AnyApi } from '@nova/kernel/boot';
import { createSyncClient, createSyncServer } from '@nova/kernel/grpc';
import { type StartedModules, startModules } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentModule } from '../src/index.js';
import { createSocialDouble, type SocialDouble } from './support/social-double.js';

// The routes over real HTTP on the production boot (edge, schemas,
// problem+json, workers). Auth and social are not started here: the token
// verifier maps "token-<userId>" to a principal, social is the graph double.
describe('content routes over HTTP', () => {
  let nova: StartedModules;
  let social: SocialDouble;
  const auth = {
    verifyToken: async ({ token }: { token: string }) => {
      if (!token.startsWith('token-')) throw new UnauthenticatedError('invalid_token');
      return {
        userId: token.slice(6),
        sessionId: 's',
        tokenId: 't',
        expiresAt: Math.floor(Date.now() / 1000) + 600,
      };
    },
  };

  beforeAll(async () => {
    social = createSocialDouble();
    nova = await startModules({
      modules: [contentModule],
      contracts: NOVA_CONTRACTS,
      provided: { auth: auth as unknown as AnyApi, social: social as unknown as AnyApi },
    });
  });
  afterAll(async () => {
    await nova?.close();
  });

  const api = (method: string, path: string, as?: string, body?: unknown) =>
    nova.call(method, `/api/v1${path}`, {
      ...(as ? { token: `token-${as}` } : {}),
      ...(body !== undefined ? { body } : {}),
    });

  it('publishes, reads, edits with history, and deletes a post', async () => {
    const author = social.addUser();
    const reader = social.addUser();
    expect((await api('POST', '/posts', undefined, { text: 'anon' })).status).toBe(401);
    const created = await api('POST', '/posts', author, { text: 'first #Routes', visibility: 'public' });
    expect(created).toMatchObject({
      status: 201,
      body: { text: 'first #Routes', hashtags: ['routes'], editedAt: null },
    });
    const id = created.body.id as string;
    expect((await api('GET', `/posts/${id}`)).body).toMatchObject({
      id,
      author: { id: author },
      likedByMe: false,
    });
    const edited = await api('PATCH', `/posts/${id}`, author, { text: 'second' });
    expect(edited.status).toBe(200);
    expect(edited.body.editedAt).toEqual(expect.any(String));
    expect((await api('PATCH', `/posts/${id}`, reader, { text: 'mine now' })).body.code).toBe(
      'not_post_author',
    );
    const history = await api('GET', `/posts/${id}/history`, reader);
    expect(history).toMatchObject({
      status: 200,
      body: { items: [{ version: 1, text: 'first #Routes' }], nextCursor: null },
    });
    expect((await api('DELETE', `/posts/${id}`, reader)).status).toBe(403);
    expect((await api('DELETE', `/posts/${id}`, author)).status).toBe(204);
    expect((await api('GET', `/posts/${id}`, author)).status).toBe(404);
    expect((await api('GET', `/posts/${id}/history`, author)).status).toBe(404);
    expect((await api('DELETE', `/posts/${id}`, author)).status).toBe(404);
  });

  it('answers bad input with a 4xx problem and changes nothing', async () => {
    const author = social.addUser();
    const bad = [
      ['POST', '/posts', { text: 'x', visibility: 'friends' }, 400],
      ['POST', '/posts', { text: 'x', extra: 1 }, 400],
      ['POST', '/posts', { text: 7 }, 400],
      ['POST', '/posts', { text: 'x'.repeat(2201) }, 400],
      ['POST', '/posts', {}, 422],
      ['POST', '/posts', { text: 'pic', mediaIds: ['someone-elses'] }, 422],
      ['POST', '/posts', { mediaIds: Array.from({ length: 11 }, (_, i) => `m${i}`) }, 400],
    ] as const;
    for (const [method, path, body, status] of bad) {
      const answer = await api(method, path, author, body);
      expect(`${JSON.stringify(body).slice(0, 40)} ${answer.status}`).toBe(
        `${JSON.stringify(body).slice(0, 40)} ${status}`,
      );
      expect(answer.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(answer.body.code).toEqual(expect.any(String));
    }
    expect((await api('GET', `/users/${author}/posts`, author)).body.items).toEqual([]);
    expect((await api('GET', '/posts/bad%20id')).status).toBe(400);
    expect((await api('GET', '/posts/0190f000-0000-7000-8000-000000000000')).status).toBe(404);
    expect((await api('GET', `/users/${author}/posts?cursor=garbage`)).status).toBe(400);
    expect((await api('GET', `/users/${author}/posts?limit=101`)).status).toBe(400);
    expect((await api('GET', '/users/nobody/posts')).status).toBe(404);
  });

  it('likes, comments, replies and lists, with visibility on every path', async () => {
    const author = social.addUser();
    const fan = social.addUser();
    const stranger = social.addUser();
    social.follow(fan, author);
    const { body: post } = await api('POST', '/posts', author, {
      text: 'for friends #Ünïcode',
      visibility: 'followers',
    });
    expect((await api('POST', `/posts/${post.id}/like`, fan)).status).toBe(204);
    expect((await api('POST', `/posts/${post.id}/like`, fan)).status).toBe(204);
    expect((await api('POST', `/posts/${post.id}/like`, stranger)).status).toBe(404);
    expect((await api('GET', `/posts/${post.id}`, fan)).body).toMatchObject({
      likeCount: 1,
      likedByMe: true,
    });
    const comment = await api('POST', `/posts/${post.id}/comments`, fan, { text: 'nice' });
    expect(comment).toMatchObject({
      status: 201,
      body: { text: 'nice', parentId: null, author: { id: fan } },
    });
    const reply = await api('POST', `/posts/${post.id}/comments`, author, {
      text: 'thanks',
      parentId: comment.body.id,
    });
    expect(reply.status).toBe(201);
    expect(
      (await api('POST', `/posts/${post.id}/comments`, fan, { text: 'deeper', parentId: reply.body.id })).body
        .code,
    ).toBe('reply_to_reply');
    expect((await api('POST', `/posts/${post.id}/comments`, stranger, { text: 'hi' })).status).toBe(404);
    expect((await api('GET', `/posts/${post.id}/comments`)).status).toBe(404);
    const top = await api('GET', `/posts/${post.id}/comments`, fan);
    expect(top.body).toMatchObject({ items: [{ id: comment.body.id, replyCount: 1 }], nextCursor: null });
    const replies = await api('GET', `/posts/${post.id}/comments?parentId=${comment.body.id}`, fan);
    expect(replies.body.items.map((c: { text: string }) => c.text)).toEqual(['thanks']);
    expect((await api('GET', `/posts/${post.id}`, author)).body.commentCount).toBe(2);
    expect((await api('DELETE', `/comments/${comment.body.id}`, stranger)).status).toBe(403);
    expect((await api('DELETE', `/comments/${comment.body.id}`, author)).status).toBe(204);
    expect((await api('GET', `/posts/${post.id}`, author)).body.commentCount).toBe(0);
    expect((await api('DELETE', `/posts/${post.id}/like`, fan)).status).toBe(204);
    expect((await api('GET', `/posts/${post.id}`, fan)).body).toMatchObject({
      likeCount: 0,
      likedByMe: false,
    });
    const tag = encodeURIComponent('üNÏCODE');
    expect(
      (await api('GET', `/hashtags/${tag}/posts`, fan)).body.items.map((p: { id: string }) => p.id),
    ).toEqual([post.id]);
    expect((await api('GET', `/hashtags/${tag}/posts`, stranger)).body.items).toEqual([]);
    expect((await api('GET', `/users/${author}/posts`)).body.items).toEqual([]);
    expect((await api('GET', `/users/${author}/posts`, fan)).body.items).toHaveLength(1);
  });

  it('serves getPosts in-process and over gRPC: the order asked, hydrated for the viewer, invisible ones left out', async () => {
    const author = social.addUser();
    const follower = social.addUser();
    social.follow(follower, author);
    const ids: string[] = [];
    for (const visibility of ['public', 'followers', 'private', 'public'])
      ids.push((await api('POST', '/posts', author, { text: visibility, visibility })).body.id);
    await api('POST', `/posts/${ids[3]}/like`, follower);
    const asked = [ids[3], 'unknown', ids[2], ids[1], ids[0]] as string[];
    const expected = [ids[3], ids[1], ids[0]];
    const local = await nova.apis.content?.getPosts?.({ ids: asked, viewerId: follower });
    const logger = createLogger('silent');
    const metrics = createMetricsRegistry();
    const handlers = nova.services.content?.api as Record<string, (r: unknown) => Promise<unknown>>;
    const server = createSyncServer({ apis: [{ definition: contentSyncApi, handlers }], logger, metrics });
    const port = await server.listen('127.0.0.1', 0);
    const client = createSyncClient(contentSyncApi, {
      url: `grpc://127.0.0.1:${port}`,
      caller: 'feed',
      logger,
      metrics,
    });
    try {
      for (const answer of [
        local as { posts: { id: string }[] },
        await client.getPosts({ ids: asked, viewerId: follower }),
      ]) {
        expect(answer.posts.map((p) => p.id)).toEqual(expected);
        expect(answer.posts[0]).toMatchObject({ likeCount: 1, likedByMe: true, author: { id: author } });
      }
      const anonymous = await client.getPosts({ ids: asked });
      expect(anonymous.posts.map((p) => p.id)).toEqual([ids[3], ids[0]]);
    } finally {
      client.close();
      await server.stop(Date.now() + 1000);
    }
  });

  it('documents its routes in the OpenAPI document', async () => {
    const { body } = await nova.call('GET', '/openapi.json');
    for (const path of [
      '/api/v1/posts',
      '/api/v1/posts/{id}',
      '/api/v1/posts/{id}/history',
      '/api/v1/posts/{id}/like',
      '/api/v1/posts/{id}/comments',
      '/api/v1/comments/{id}',
      '/api/v1/users/{id}/posts',
      '/api/v1/hashtags/{tag}/posts',
    ])
      expect(Object.keys(body.paths)).toContain(path);
  });
});
