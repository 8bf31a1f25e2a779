import { DATABASE_KINDS } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDayFollowsQuery } from '../src/queries/day-follows-query.js';
import { openSocialFixture, type SocialFixture } from './support/fixture.js';

describe.each(DATABASE_KINDS)("social's dayActivity (analytics' reconciliation source) on %s", (kind) => {
  let f: SocialFixture;
  beforeAll(async () => {
    f = await openSocialFixture(kind);
  });
  afterAll(() => f?.close());

  it("counts and pages one UTC day's follows that still stand", async () => {
    const dayFollows = createDayFollowsQuery(f.database.db);
    const today = new Date().toISOString().slice(0, 10);
    const [star, a, b, c] = await f.addUsers(4);
    for (const fan of [a, b, c]) await f.social.follows.follow(fan, star);
    await f.social.follows.unfollow(b, star);

    const first = await dayFollows(today, null, 1);
    expect(first.total).toBe(2);
    expect(first.items[0]).toMatchObject({ subjectId: star, ownerId: star });
    expect(first.items[0]?.entityId).toBe(`${first.items[0]?.actorId}:${star}`);
    const second = await dayFollows(today, first.nextCursor, 1);
    expect(second.items).toHaveLength(1);
    expect(new Set([first.items[0]?.actorId, second.items[0]?.actorId])).toEqual(new Set([a, c]));
    expect((await dayFollows(today, second.items[0]?.entityId ?? null, 5)).items).toEqual([]);
    expect((await dayFollows('2020-01-01', null, 5)).total).toBe(0);
  });
});
