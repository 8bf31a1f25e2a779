import { generatePopulation } from '@nova/contracts/seed';
import { ForbiddenError, NotFoundError, UnprocessableError, ValidationError } from '@nova/kernel';
import { describe, expect, it } from 'vitest';
import { applyProfilePatch, approvesPendingRequests, assertNotSelf } from '../src/domain/profile-rules.js';
import { assertMayListConnections, followOutcome } from '../src/domain/visibility.js';

const blank = { displayName: null, bio: null, avatarMediaId: null, isPrivate: false };

describe('profile rules', () => {
  it('keeps absent fields, clears null ones and trims text', () => {
    const current = { displayName: 'Ada', bio: 'hello', avatarMediaId: 'm1', isPrivate: true };
    expect(applyProfilePatch(current, { bio: null, displayName: '  Ada L.  ' })).toEqual({
      displayName: 'Ada L.',
      bio: null,
      avatarMediaId: 'm1',
      isPrivate: true,
    });
    expect(applyProfilePatch(current, { displayName: '   ' }).displayName).toBeNull();
  });

  it('rejects an over-long bio and a malformed media id', () => {
    expect(() => applyProfilePatch(blank, { bio: 'x'.repeat(301) })).toThrow(ValidationError);
    expect(() => applyProfilePatch(blank, { avatarMediaId: '../etc/passwd' })).toThrow(ValidationError);
    expect(applyProfilePatch(blank, { bio: '🙂'.repeat(300) }).bio).toHaveLength(600);
  });

  it('approves pending requests only when an account turns public', () => {
    expect(approvesPendingRequests({ ...blank, isPrivate: true }, blank)).toBe(true);
    expect(approvesPendingRequests(blank, { ...blank, isPrivate: true })).toBe(false);
    expect(approvesPendingRequests(blank, blank)).toBe(false);
  });

  it('refuses acting on oneself with a clear code', () => {
    expect(() => assertNotSelf('a', 'a', 'follow')).toThrow(UnprocessableError);
    try {
      assertNotSelf('a', 'a', 'block');
    } catch (error) {
      expect((error as UnprocessableError).code).toBe('cannot_block_self');
    }
    expect(() => assertNotSelf('a', 'b', 'mute')).not.toThrow();
  });
});

describe('visibility', () => {
  const view = { exists: true, isPrivate: true, blocked: false, viewerFollows: false };
  it('lets the owner and approved followers list a private account, 403 for others', () => {
    expect(() => assertMayListConnections('owner', 'owner', view)).not.toThrow();
    expect(() => assertMayListConnections('fan', 'owner', { ...view, viewerFollows: true })).not.toThrow();
    expect(() => assertMayListConnections('stranger', 'owner', view)).toThrow(ForbiddenError);
    expect(() => assertMayListConnections(undefined, 'owner', view)).toThrow(ForbiddenError);
    expect(() => assertMayListConnections(undefined, 'owner', { ...view, isPrivate: false })).not.toThrow();
  });

  it('hides blocked and missing accounts as 404', () => {
    expect(() => assertMayListConnections('x', 'owner', { ...view, blocked: true })).toThrow(NotFoundError);
    expect(() => assertMayListConnections('x', 'owner', { ...view, exists: false })).toThrow(NotFoundError);
  });

  it('turns a follow of a private account into a request unless already approved', () => {
    expect(followOutcome(true, false)).toBe('requested');
    expect(followOutcome(true, true)).toBe('following');
    expect(followOutcome(false, false)).toBe('following');
  });
});

describe('seed population', () => {
  it('is deterministic and shaped like a power law', () => {
    const a = generatePopulation({ users: 2_000, seed: 7, avgFollows: 20 });
    const b = generatePopulation({ users: 2_000, seed: 7, avgFollows: 20 });
    expect(a.userId(5)).toBe(b.userId(5));
    expect(a.userId(5)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.user(12)).toMatchObject({ username: 'user12', email: 'user12@seed.nova.local' });
    expect(generatePopulation({ users: 2_000, seed: 8, avgFollows: 20 }).userId(5)).not.toBe(a.userId(5));

    const inDegree = new Uint32Array(2_000);
    const edges = new Set<number>();
    let count = 0;
    for (const chunk of a.followChunks(777)) {
      for (let i = 0; i < chunk.length; i++) {
        const from = chunk.followers[i] as number;
        const to = chunk.followees[i] as number;
        expect(from).not.toBe(to);
        edges.add(from * 2_000 + to);
        inDegree[to] = (inDegree[to] ?? 0) + 1;
        count++;
      }
    }
    expect(count).toBe(a.followCount);
    expect(edges.size).toBe(count); // no duplicate edge
    expect(count / 2_000).toBeGreaterThan(15);
    expect(count / 2_000).toBeLessThan(25);
    const sorted = [...inDegree].sort((x, y) => y - x);
    // Heavy head, long tail: the top account has many times the median's followers.
    expect(sorted[0]).toBeGreaterThan(20 * (sorted[1_000] as number));
  });
});
