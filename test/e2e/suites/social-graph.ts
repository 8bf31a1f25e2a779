import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { apiCaller, pollUntil, type SignedUp, signUp as signUpAt } from '../harness.js';
import { deploySuite, type E2eShape } from './shape.js';

type Client = SignedUp;

type Json = Record<string, unknown> & { items?: { id: string }[] };

export function defineSocialGraph(shape: E2eShape): void {
  describe(`social graph over HTTP (${shape.name})`, () => {
    // On a fresh database, so the test can check from outside that a deleted user leaves no
    // row behind in the social schema.
    const suite = deploySuite(shape, { name: 'social' });
    const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
    const call = apiCaller<Json>((p, m) => suite.nova.urlFor(p, m));
    const signUp = (name: string): Promise<Client> =>
      signUpAt((p, method) => suite.nova.urlFor(p, method), `${name}${run}`);

    it('walks profiles, follows, private accounts, blocks, mutes, requests, suggestions and deletion', async () => {
      const [alice, bob, carol, dave] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map(signUp));
      if (!alice || !bob || !carol || !dave) throw new Error('sign-up failed');

      // Profiles: static routes win over /users/{username}.
      expect((await call('GET', '/users/me')).status).toBe(401);
      const patched = await call('PATCH', '/users/me', alice.token, {
        displayName: 'Alice',
        bio: 'hi',
        avatarMediaId: 'media_1',
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({
        displayName: 'Alice',
        bio: 'hi',
        avatarMediaId: 'media_1',
        isPrivate: false,
      });
      expect((await call('PATCH', '/users/me', alice.token, { bio: 'x'.repeat(301) })).status).toBe(400);
      expect((await call('PATCH', '/users/me', alice.token, { avatarMediaId: 'no/slashes' })).status).toBe(
        400,
      );
      expect((await call('PATCH', '/users/me', alice.token, { bio: null })).body.bio).toBeNull();
      const suggestions = await call('GET', '/users/suggestions', alice.token);
      expect(suggestions.status).toBe(200);
      expect(suggestions.body).toMatchObject({ items: [], nextCursor: null });
      const anonymous = await call('GET', `/users/${alice.username.toUpperCase()}`);
      expect(anonymous.status).toBe(200);
      expect(anonymous.body.relationship).toBeUndefined();
      expect((await call('GET', '/users/nobody-here')).status).toBe(404);

      // Follow: idempotent, self and bad ids refused with clear codes.
      expect((await call('POST', `/users/${bob.id}/follow`, alice.token)).body).toEqual({
        state: 'following',
      });
      const twice = await call('POST', `/users/${bob.id}/follow`, alice.token);
      expect(twice).toMatchObject({ status: 200, body: { state: 'following' } });
      const self = await call('POST', `/users/${alice.id}/follow`, alice.token);
      expect(self).toMatchObject({ status: 422, body: { code: 'cannot_follow_self' } });
      expect((await call('POST', '/users/not%20an%20id/follow', alice.token)).status).toBe(400);
      expect(
        (await call('POST', '/users/00000000-0000-4000-8000-000000000000/follow', alice.token)).status,
      ).toBe(404);
      expect((await call('GET', `/users/${bob.username}`, alice.token)).body).toMatchObject({
        followerCount: 1,
        relationship: { following: true, followedBy: false },
      });

      // Private account: requests, the 403 on its lists, acceptance.
      expect((await call('PATCH', '/users/me', carol.token, { isPrivate: true })).status).toBe(200);
      expect((await call('POST', `/users/${carol.id}/follow`, alice.token)).body).toEqual({
        state: 'requested',
      });
      expect((await call('POST', `/users/${carol.id}/follow`, dave.token)).body).toEqual({
        state: 'requested',
      });
      const requests = await call('GET', '/follow-requests?limit=1', carol.token);
      expect(requests.status).toBe(200);
      expect((requests.body.items as unknown as { user: { id: string } }[])[0]?.user.id).toBe(dave.id);
      expect(requests.body.nextCursor).toEqual(expect.any(String));
      expect((await call('GET', `/users/${carol.id}/followers`, alice.token)).status).toBe(403);
      expect((await call('POST', `/follow-requests/${alice.id}/accept`, carol.token)).status).toBe(204);
      expect((await call('POST', `/follow-requests/${dave.id}/reject`, carol.token)).status).toBe(204);
      expect((await call('POST', `/follow-requests/${dave.id}/accept`, carol.token)).status).toBe(404);
      const carolFollowers = await call('GET', `/users/${carol.id}/followers`, alice.token);
      expect(carolFollowers.status).toBe(200);
      expect(carolFollowers.body.items?.map((p) => p.id)).toEqual([alice.id]);

      // Blocks in both directions, mutes; all idempotent.
      expect((await call('POST', `/users/${bob.id}/follow`, dave.token)).status).toBe(200);
      expect((await call('POST', `/users/${dave.id}/follow`, bob.token)).status).toBe(200);
      expect((await call('POST', `/users/${dave.id}/block`, bob.token)).status).toBe(204);
      expect((await call('POST', `/users/${dave.id}/block`, bob.token)).status).toBe(204);
      expect((await call('GET', `/users/${bob.username}`, dave.token)).status).toBe(404);
      expect((await call('GET', `/users/${dave.username}`, bob.token)).status).toBe(404);
      expect((await call('POST', `/users/${bob.id}/follow`, dave.token)).status).toBe(404);
      expect((await call('POST', `/users/${dave.id}/follow`, bob.token)).status).toBe(404);
      expect((await call('GET', `/users/${bob.username}`, alice.token)).body).toMatchObject({
        followerCount: 1,
        followingCount: 0,
      });
      expect((await call('DELETE', `/users/${dave.id}/block`, bob.token)).status).toBe(204);
      expect((await call('DELETE', `/users/${dave.id}/block`, bob.token)).status).toBe(204);
      expect((await call('POST', `/users/${bob.id}/block`, bob.token)).status).toBe(422);
      expect((await call('POST', `/users/${carol.id}/mute`, alice.token)).status).toBe(204);
      expect((await call('POST', `/users/${carol.id}/mute`, alice.token)).status).toBe(204);
      expect((await call('GET', `/users/${carol.username}`, alice.token)).body).toMatchObject({
        relationship: { muting: true },
      });
      expect((await call('DELETE', `/users/${carol.id}/mute`, alice.token)).status).toBe(204);
      expect((await call('DELETE', `/users/${carol.id}/follow`, dave.token)).status).toBe(204);

      // Suggestions: dave follows alice, alice follows bob → bob suggested to dave.
      expect((await call('POST', `/users/${alice.id}/follow`, dave.token)).status).toBe(200);
      const forDave = await call('GET', '/users/suggestions', dave.token);
      expect(forDave.body.items?.map((p) => p.id)).toContain(bob.id);
      expect(forDave.body.items?.map((p) => p.id)).not.toContain(alice.id);

      // Deletion: dave goes; others' counters are corrected; nothing of dave remains in any service's tables.
      expect((await call('POST', `/users/${dave.id}/follow`, bob.token)).status).toBe(200);
      // A token alone deletes nothing: the current password must come with it.
      expect(
        (await call('DELETE', '/users/me', dave.token, { password: 'not dave’s password' })).status,
      ).toBe(401);
      expect((await call('DELETE', '/users/me', dave.token, {})).status).toBe(400);
      expect(
        (await call('DELETE', '/users/me', dave.token, { password: 'correct horse battery staple' })).status,
      ).toBe(202);
      // The deleted account's tokens stop at once (auth revokes before answering).
      expect((await call('GET', '/auth/sessions', dave.token)).status).toBe(401);
      const gone = await pollUntil(
        () => call('GET', `/users/${dave.username}`, alice.token),
        (r) => r.status === 404,
      );
      expect(gone.status).toBe(404);
      // Revoking the deleted account's tokens is the auth service's part of the deletion.
      const revoked = await pollUntil(
        () => call('GET', '/users/me', dave.token),
        (r) => r.status === 401,
        5_000,
      );
      expect(revoked.status).toBe(401);
      expect((await call('GET', `/users/${alice.username}`, bob.token)).body).toMatchObject({
        followerCount: 0,
      });
      expect((await call('GET', '/users/me', bob.token)).body).toMatchObject({ followingCount: 0 });
      // Each service's rows in that service's database (one database for all on a single process).
      const left = async (service: string, sql: string) => {
        const db = new pg.Client({ connectionString: suite.databaseUrl(service) });
        await db.connect();
        try {
          return Number((await db.query<{ n: string }>(sql, [dave.id])).rows[0]?.n);
        } finally {
          await db.end();
        }
      };
      expect(
        await left(
          'social',
          `SELECT (SELECT count(*) FROM social.profiles WHERE id = $1)
              + (SELECT count(*) FROM social.follows WHERE follower_id = $1 OR followee_id = $1)
              + (SELECT count(*) FROM social.follow_requests WHERE requester_id = $1 OR target_id = $1)
              + (SELECT count(*) FROM social.blocks WHERE blocker_id = $1 OR blocked_id = $1)
              + (SELECT count(*) FROM social.mutes WHERE muter_id = $1 OR muted_id = $1) AS n`,
        ),
      ).toBe(0);
      expect(
        await left(
          'auth',
          `SELECT (SELECT count(*) FROM auth.users WHERE id::text = $1)
              + (SELECT count(*) FROM auth.sessions WHERE user_id::text = $1)
              + (SELECT count(*) FROM auth.email_verifications WHERE user_id::text = $1)
              + (SELECT count(*) FROM auth.password_resets WHERE user_id::text = $1)
              + (SELECT count(*) FROM auth.totp WHERE user_id::text = $1)
              + (SELECT count(*) FROM auth.backup_codes WHERE user_id::text = $1) AS n`,
        ),
      ).toBe(0);
    });

    it('pages followers without duplicates or gaps under concurrent follows', async () => {
      const star = await signUp('star');
      const fans = await Promise.all(Array.from({ length: 12 }, (_, i) => signUp(`fan${i}`)));
      const late = await Promise.all(Array.from({ length: 6 }, (_, i) => signUp(`late${i}`)));
      for (const fan of fans)
        expect((await call('POST', `/users/${star.id}/follow`, fan.token)).status).toBe(200);
      const seen: string[] = [];
      let cursor: string | null = null;
      let round = 0;
      do {
        const query: string = cursor ? `&cursor=${cursor}` : '';
        const [page] = await Promise.all([
          call('GET', `/users/${star.id}/followers?limit=5${query}`),
          ...late
            .slice(round * 2, round * 2 + 2)
            .map((fan) => call('POST', `/users/${star.id}/follow`, fan.token)),
        ]);
        expect(page.status).toBe(200);
        seen.push(...(page.body.items ?? []).map((p) => p.id));
        cursor = page.body.nextCursor as string | null;
        round++;
      } while (cursor);
      expect(new Set(seen).size).toBe(seen.length);
      for (const fan of fans) expect(seen).toContain(fan.id);
      expect((await call('GET', `/users/${star.id}/followers?cursor=***`)).status).toBe(400);
    });

    if (shape.split) {
      it('reaches auth over the gRPC binding; answers 503 while auth is down and recovers after', async () => {
        const { auth, social } = suite.nova.processes;
        if (!auth || !social) throw new Error('split deployment without its processes');
        const metric = async (url: string, pattern: RegExp) => {
          const text = await (await fetch(`${url}/metrics`)).text();
          return Number(pattern.exec(text)?.[1] ?? 0);
        };
        const calls =
          /nova_sync_client_requests_total\{upstream="auth",method="verifyToken",outcome="ok"\} (\d+)/;
        const served =
          /nova_sync_server_requests_total\{service="auth",method="verifyToken",status="OK"\} (\d+)/;
        const erin = await signUp('erin');
        const before = await metric(social.url, calls);
        expect((await call('GET', '/users/me', erin.token)).status).toBe(200);
        // Every authenticated social request verified the token with auth, over the network.
        expect(await metric(social.url, calls)).toBe(before + 1);
        expect(await metric(auth.url, served)).toBeGreaterThan(0);

        await auth.stop(); // a real outage of the upstream
        const down = await call('GET', '/users/me', erin.token);
        expect(down.status).toBe(503);
        expect(down.body.code).toBe('upstream_unavailable');
        expect(Number(down.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        // What needs no upstream keeps working.
        expect((await call('GET', `/users/${erin.username}`)).status).toBe(200);

        await auth.restart();
        const back = await pollUntil(
          () => call('GET', '/users/me', erin.token),
          (r) => r.status === 200,
          30_000,
        );
        expect(back.status).toBe(200);
      });
    }
  });
}
