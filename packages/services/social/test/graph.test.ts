import { randomUUID } from 'node:crypto';
import { ConflictError, ForbiddenError, NotFoundError, UnprocessableError } from '@nova/kernel';
import { DATABASE_KINDS, expectError } from '@nova/kernel/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tablesOf } from '../src/store/tables-of.js';
import { openSocialFixture, type SocialFixture } from './support/fixture.js';

describe.each(DATABASE_KINDS)('social graph on %s', (kind) => {
  let f: SocialFixture;
  beforeAll(async () => {
    f = await openSocialFixture(kind);
  });
  afterAll(async () => {
    await f?.close();
  });

  const counts = async (id: string) => {
    const [p] = await f.social.queries.getProfiles([id]);
    return { followers: p?.followerCount, following: p?.followingCount };
  };

  it('follows and unfollows idempotently, keeping both counters exact', async () => {
    const [a, b] = await f.addUsers(2);
    expect(await f.social.follows.follow(a, b)).toBe('following');
    expect(await f.social.follows.follow(a, b)).toBe('following');
    expect(await counts(a)).toEqual({ followers: 0, following: 1 });
    expect(await counts(b)).toEqual({ followers: 1, following: 0 });
    await f.social.follows.unfollow(a, b);
    await f.social.follows.unfollow(a, b);
    expect(await counts(a)).toEqual({ followers: 0, following: 0 });
    expect(await counts(b)).toEqual({ followers: 0, following: 0 });
    const events = await f.outboxEvents(a);
    expect(events.filter((e) => e.type === 'follow.created')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'follow.removed')).toHaveLength(1);
  });

  it('refuses self-follows, unknown users and users whose profile is not ready', async () => {
    const [a] = await f.addUsers(1);
    await expectError(f.social.follows.follow(a, a), UnprocessableError, 'cannot_follow_self');
    await expectError(f.social.follows.follow(a, randomUUID()), NotFoundError, 'user_not_found');
    await expectError(f.social.follows.follow(randomUUID(), a), ConflictError, 'profile_pending');
    await expectError(f.social.blocks.block(a, a), UnprocessableError, 'cannot_block_self');
    await expectError(f.social.blocks.mute(a, randomUUID()), NotFoundError, 'user_not_found');
  });

  it('turns follows of a private account into requests the owner decides', async () => {
    const [owner, x, y, z] = await f.addUsers(4);
    await f.social.profiles.update(owner, { isPrivate: true });
    expect(await f.social.follows.follow(x, owner)).toBe('requested');
    expect(await f.social.follows.follow(x, owner)).toBe('requested');
    expect(await f.social.follows.follow(y, owner)).toBe('requested');
    expect(await f.social.follows.follow(z, owner)).toBe('requested');
    expect(await counts(owner)).toEqual({ followers: 0, following: 0 });
    const [rel] = await f.social.queries.relationships(x, [owner]);
    expect(rel).toMatchObject({ following: false, followRequested: true });

    const pending = await f.social.queries.incomingRequests(owner, undefined, 2);
    expect(pending.items.map((i) => i.user.id)).toEqual([z, y]);
    const rest = await f.social.queries.incomingRequests(owner, pending.nextCursor ?? undefined, 2);
    expect(rest.items.map((i) => i.user.id)).toEqual([x]);
    expect(rest.nextCursor).toBeNull();

    await f.social.follows.acceptRequest(owner, x);
    await f.social.follows.acceptRequest(owner, x); // already approved: no-op
    await f.social.follows.rejectRequest(owner, y);
    await expectError(f.social.follows.acceptRequest(owner, y), NotFoundError, 'follow_request_not_found');
    expect(await f.social.follows.follow(x, owner)).toBe('following');
    expect(await counts(owner)).toEqual({ followers: 1, following: 0 });
    expect(await counts(x)).toEqual({ followers: 0, following: 1 });

    // Approved followers may list a private account's connections; others get 403.
    await expect(f.social.queries.connections(x, owner, 'followers', undefined, 10)).resolves.toMatchObject({
      items: [{ id: x }],
    });
    await expect(f.social.queries.connections(y, owner, 'followers', undefined, 10)).rejects.toBeInstanceOf(
      ForbiddenError,
    );

    // Going public approves whoever is still waiting (z).
    const profile = await f.social.profiles.update(owner, { isPrivate: false });
    expect(profile.followerCount).toBe(2);
    expect((await f.social.queries.incomingRequests(owner, undefined, 10)).items).toEqual([]);
    expect(await counts(z)).toEqual({ followers: 0, following: 1 });
  });

  it('withdraws a pending request on unfollow', async () => {
    const [owner, x] = await f.addUsers(2);
    await f.social.profiles.update(owner, { isPrivate: true });
    await f.social.follows.follow(x, owner);
    await f.social.follows.unfollow(x, owner);
    expect((await f.social.queries.incomingRequests(owner, undefined, 10)).items).toEqual([]);
  });

  it('severs follows and requests both ways on block, correcting both counters', async () => {
    const [a, b, c] = await f.addUsers(3);
    await f.social.follows.follow(a, b);
    await f.social.follows.follow(b, a);
    await f.social.follows.follow(c, a);
    await f.social.blocks.block(a, b);
    await f.social.blocks.block(a, b);
    expect(await counts(a)).toEqual({ followers: 1, following: 0 });
    expect(await counts(b)).toEqual({ followers: 0, following: 0 });
    await expectError(f.social.follows.follow(b, a), NotFoundError, 'user_not_found');
    await expectError(f.social.follows.follow(a, b), NotFoundError, 'user_not_found');
    const [rel] = await f.social.queries.relationships(a, [b]);
    expect(rel).toMatchObject({ blocking: true, blockedBy: false, following: false, followedBy: false });
    const [back] = await f.social.queries.relationships(b, [a]);
    expect(back).toMatchObject({ blocking: false, blockedBy: true });
    const bProfile = (await f.social.queries.getProfiles([b]))[0];
    const aProfile = (await f.social.queries.getProfiles([a]))[0];
    await expect(f.social.queries.byUsername(a, bProfile?.username ?? '')).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(f.social.queries.byUsername(b, aProfile?.username ?? '')).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(f.social.queries.byUsername(undefined, aProfile?.username ?? '')).resolves.toMatchObject({
      id: a,
    });
    await expect(f.social.queries.connections(b, a, 'followers', undefined, 10)).rejects.toBeInstanceOf(
      NotFoundError,
    );

    await f.social.blocks.unblock(a, b);
    await f.social.blocks.unblock(a, b);
    expect(await f.social.follows.follow(b, a)).toBe('following');
    const types = (await f.outboxEvents(a)).map((e) => e.type);
    expect(types.filter((t) => t === 'block.created')).toHaveLength(1);
    expect(types.filter((t) => t === 'block.removed')).toHaveLength(1);
  });

  it("leaves accounts blocked either way out of another user's lists, in full pages", async () => {
    const [owner, viewer, blockedByViewer, blockingViewer, c, d] = await f.addUsers(6);
    for (const fan of [blockedByViewer, c, blockingViewer, d]) await f.social.follows.follow(fan, owner);
    for (const followee of [blockedByViewer, c, blockingViewer, d])
      await f.social.follows.follow(owner, followee);
    await f.social.blocks.block(viewer, blockedByViewer);
    await f.social.blocks.block(blockingViewer, viewer);
    const ids = (page: { items: { id: string }[] }) => page.items.map((p) => p.id);
    const all = async (viewerId: string | undefined, direction: 'followers' | 'following') => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await f.social.queries.connections(viewerId, owner, direction, cursor, 1);
        // A filtered-out account never leaves a page short: every page but the last is full.
        if (page.nextCursor) expect(page.items).toHaveLength(1);
        seen.push(...ids(page));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return seen;
    };
    for (const direction of ['followers', 'following'] as const) {
      expect(await all(viewer, direction)).toEqual([d, c]);
      // Anonymous callers and the owner see everyone (blocks are between two accounts).
      expect(await all(undefined, direction)).toEqual([d, blockingViewer, c, blockedByViewer]);
      expect(await all(owner, direction)).toEqual([d, blockingViewer, c, blockedByViewer]);
      expect(ids(await f.social.queries.connections(c, owner, direction, undefined, 10))).toEqual([
        d,
        blockingViewer,
        c,
        blockedByViewer,
      ]);
    }
    await f.social.blocks.unblock(viewer, blockedByViewer);
    expect(await all(viewer, 'followers')).toEqual([d, c, blockedByViewer]);
  });

  it('keeps the lists of a private account from anonymous callers and non-followers alike', async () => {
    const [owner, follower, stranger] = await f.addUsers(3);
    await f.social.follows.follow(follower, owner);
    await f.social.profiles.update(owner, { isPrivate: true });
    for (const direction of ['followers', 'following'] as const) {
      await expectError(
        f.social.queries.connections(undefined, owner, direction, undefined, 10),
        ForbiddenError,
        'private_account',
      );
      await expectError(
        f.social.queries.connections(stranger, owner, direction, undefined, 10),
        ForbiddenError,
        'private_account',
      );
      await expect(
        f.social.queries.connections(follower, owner, direction, undefined, 10),
      ).resolves.toBeDefined();
      await expect(
        f.social.queries.connections(owner, owner, direction, undefined, 10),
      ).resolves.toBeDefined();
    }
    // The card itself is the same for an anonymous caller and a non-follower.
    const card = (await f.social.queries.getProfiles([owner]))[0];
    const anonymous = await f.social.queries.byUsername(undefined, card?.username ?? '');
    const { relationship, ...asStranger } = await f.social.queries.byUsername(stranger, card?.username ?? '');
    expect(relationship).toMatchObject({ following: false });
    expect(anonymous).toEqual(asStranger);
  });

  it('suggests friends of friends ranked by mutuals, without excluded accounts', async () => {
    const [me, f1, f2, f3, x, y, z, w, q] = await f.addUsers(9);
    for (const friend of [f1, f2, f3]) await f.social.follows.follow(me, friend);
    // x: 3 mutuals, y: 2 (muted), z: 2 (blocks me), w: 1, q: 1 (requested, private), f2: followed already
    for (const friend of [f1, f2, f3]) await f.social.follows.follow(friend, x);
    for (const friend of [f1, f2]) {
      await f.social.follows.follow(friend, y);
      await f.social.follows.follow(friend, z);
    }
    await f.social.follows.follow(f1, w);
    await f.social.follows.follow(f3, q);
    await f.social.follows.follow(f1, f2);
    await f.social.follows.follow(f1, me);
    await f.social.blocks.mute(me, y);
    await f.social.blocks.block(z, me);
    await f.social.profiles.update(q, { isPrivate: true });
    await f.social.follows.follow(me, q);
    // A tie at one mutual is broken by follower count: give w a follower outside the circle.
    await f.social.follows.follow(q, w);

    const all = await f.social.queries.suggestions(me, undefined, 10);
    expect(all.items.map((s) => [s.id, s.mutualCount])).toEqual([
      [x, 3],
      [w, 1],
    ]);
    const first = await f.social.queries.suggestions(me, undefined, 1);
    expect(first.items.map((s) => s.id)).toEqual([x]);
    const second = await f.social.queries.suggestions(me, first.nextCursor ?? undefined, 1);
    expect(second.items.map((s) => s.id)).toEqual([w]);
    expect(second.nextCursor).toBeNull();
    await f.social.blocks.unmute(me, y);
    expect((await f.social.queries.suggestions(me, undefined, 10)).items.map((s) => s.id)).toEqual([x, y, w]);
  });

  it('pages followers without duplicates or gaps while follows keep arriving', async () => {
    const [star, ...fans] = await f.addUsers(31);
    const latecomers = await f.addUsers(20);
    for (const fan of fans) await f.social.follows.follow(fan, star);
    const seen: string[] = [];
    let cursor: string | undefined;
    let page = 0;
    do {
      const result = await f.social.queries.connections(undefined, star, 'followers', cursor, 7);
      seen.push(...result.items.map((p) => p.id));
      cursor = result.nextCursor ?? undefined;
      // New followers land between pages, some of them concurrently with the next read.
      const batch = latecomers.slice(page * 4, page * 4 + 4);
      await Promise.all(batch.map((fan) => f.social.follows.follow(fan, star)));
      page++;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    for (const fan of fans) expect(seen).toContain(fan);
    // Newest first: the first fans followed last.
    expect(seen.indexOf(fans[29] as string)).toBeLessThan(seen.indexOf(fans[0] as string));
    expect((await counts(star)).followers).toBe(30 + Math.min(20, page * 4));
  });

  it('purges a deleted user everywhere and corrects the other side, idempotently', async () => {
    const [u, a, b, c, d, e, g] = await f.addUsers(7);
    await f.social.follows.follow(u, a);
    await f.social.follows.follow(u, b);
    await f.social.follows.follow(c, u);
    await f.social.follows.follow(d, u);
    await f.social.blocks.block(u, e);
    await f.social.blocks.mute(a, u);
    await f.social.profiles.update(g, { isPrivate: true });
    await f.social.follows.follow(u, g);
    await f.purge(u);
    await f.purge(u);
    expect(await counts(a)).toEqual({ followers: 0, following: 0 });
    expect(await counts(b)).toEqual({ followers: 0, following: 0 });
    expect(await counts(c)).toEqual({ followers: 0, following: 0 });
    expect(await counts(d)).toEqual({ followers: 0, following: 0 });
    expect(await f.social.queries.getProfiles([u])).toEqual([]);
    const t = tablesOf(f.database.db);
    const { rows } = await sql<{ n: number }>`
      SELECT (SELECT count(*) FROM ${t.profiles} WHERE id = ${u})
           + (SELECT count(*) FROM ${t.follows} WHERE follower_id = ${u} OR followee_id = ${u})
           + (SELECT count(*) FROM ${t.follow_requests} WHERE requester_id = ${u} OR target_id = ${u})
           + (SELECT count(*) FROM ${t.blocks} WHERE blocker_id = ${u} OR blocked_id = ${u})
           + (SELECT count(*) FROM ${t.mutes} WHERE muter_id = ${u} OR muted_id = ${u}) AS n`.execute(
      f.database.db,
    );
    expect(Number(rows[0]?.n)).toBe(0);
  });

  it('answers the batch sync API with one query whatever the list size', async () => {
    const ids = await f.addUsers(40);
    const [viewer] = ids;
    await f.social.follows.follow(viewer as string, ids[1] as string);
    const unknown = randomUUID();
    let before = f.database.stats.queries;
    const profiles = await f.social.queries.getProfiles([...ids, unknown]);
    expect(f.database.stats.queries).toBe(before + 1);
    expect(profiles.map((p) => p.id)).toEqual(ids);

    before = f.database.stats.queries;
    const rels = await f.social.queries.relationships(viewer as string, ids.slice(1));
    expect(f.database.stats.queries).toBe(before + 1);
    expect(rels).toHaveLength(39);
    expect(rels[0]).toMatchObject({ userId: ids[1], following: true });
    expect(rels[1]).toMatchObject({ following: false, followedBy: false });

    const page = await f.social.queries.followersPage(ids[1] as string, null, 10);
    expect(page.items.map((p) => p.id)).toEqual([viewer]);
  });
});
