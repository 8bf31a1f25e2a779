import { createECDH } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../src/domain/cursor.js';
import { foldIntoGroups, type GroupState } from '../src/domain/grouping.js';
import type { NotifyingAction } from '../src/domain/kinds.js';
import { checkSubscription } from '../src/domain/push-subscription.js';
import { isPublicAddress } from '../src/push/public-address.js';

const keys = () => {
  const ecdh = createECDH('prime256v1');
  return {
    p256dh: ecdh.generateKeys().toString('base64url'),
    auth: Buffer.alloc(16, 1).toString('base64url'),
  };
};

describe('push endpoint addresses', () => {
  it.each([
    ['8.8.8.8', true],
    ['93.184.215.14', true],
    ['2606:4700::1111', true],
    ['::ffff:8.8.8.8', true],
    ['127.0.0.1', false],
    ['10.0.0.1', false],
    ['172.16.5.4', false],
    ['192.168.1.1', false],
    ['100.64.0.1', false],
    ['169.254.169.254', false],
    ['0.0.0.0', false],
    ['224.0.0.1', false],
    ['::1', false],
    ['::', false],
    ['::ffff:10.0.0.1', false],
    ['fe80::1', false],
    ['fd00::1', false],
    ['not-an-ip', false],
  ])('%s is public: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});

describe('push subscription shape', () => {
  it('accepts a browser subscription and names each bad field', () => {
    expect(checkSubscription({ endpoint: 'https://push.example/a', keys: keys() }, false).hostname).toBe(
      'push.example',
    );
    expect(() => checkSubscription({ endpoint: 'http://push.example/a', keys: keys() }, false)).toThrow(
      expect.objectContaining({ issues: [expect.objectContaining({ field: '/endpoint' })] }),
    );
    expect(checkSubscription({ endpoint: 'http://127.0.0.1:9/a', keys: keys() }, true).protocol).toBe(
      'http:',
    );
    expect(() => checkSubscription({ endpoint: 'https://u:p@push.example/a', keys: keys() }, false)).toThrow(
      expect.objectContaining({ code: 'invalid_push_subscription' }),
    );
    const offCurve = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 9)]).toString('base64url');
    expect(() =>
      checkSubscription({ endpoint: 'https://push.example/a', keys: { ...keys(), p256dh: offCurve } }, false),
    ).toThrow(expect.objectContaining({ issues: [expect.objectContaining({ field: '/keys/p256dh' })] }));
  });
});

describe('list cursor', () => {
  it('round-trips and refuses what it did not make', () => {
    const position = { updatedAt: '2026-01-02T03:04:05.678Z', id: '0b0f6a2e-7a5e-4a57-9d43-0f3c5b8e9d11' };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
    expect(() => decodeCursor('bm9wZQ')).toThrow(expect.objectContaining({ code: 'invalid_cursor' }));
  });
});

describe('folding actions into groups', () => {
  const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second));
  const comment = (actorId: string, sourceId: string, second: number): NotifyingAction => ({
    recipientId: 'author',
    kind: 'comment',
    targetId: 'post',
    actorId,
    sourceId,
    actedAt: at(second),
  });
  let ids = 0;
  const newId = () => `g${++ids}`;
  const empty = () => ({ actors: new Set<string>(), sources: new Set<string>() });
  const storedGroup = (
    state: Pick<GroupState, 'actorCount' | 'latestActorIds' | 'updatedAt'>,
  ): GroupState => ({
    id: 'old',
    recipientId: 'author',
    kind: 'comment',
    targetId: 'post',
    openedAt: at(0),
    ...state,
  });

  it('counts distinct actors, skips known sources and leads with the newest actor', () => {
    const stored = storedGroup({ actorCount: 2, latestActorIds: ['b', 'a'], updatedAt: at(5) });
    const fold = foldIntoGroups(
      [comment('a', 'c1', 6), comment('a', 'c9', 7), comment('c', 'c10', 8), comment('b', 'c11', 9)],
      stored,
      () => ({ actors: new Set(['a', 'b']), sources: new Set(['c1', 'c2']) }),
      60_000,
      newId,
    );
    expect(fold.joined.map((j) => j.action.sourceId)).toEqual(['c9', 'c10', 'c11']);
    expect(fold.changed).toEqual([
      { ...stored, actorCount: 3, latestActorIds: ['b', 'c', 'a'], updatedAt: at(9), opened: false },
    ]);
  });

  it('opens a new group once an action falls outside the window of the newest one', () => {
    const fold = foldIntoGroups(
      [comment('a', 'c1', 0), comment('b', 'c2', 30), comment('c', 'c3', 61), comment('d', 'c4', 62)],
      undefined,
      empty,
      60_000,
      newId,
    );
    expect(fold.changed.map((g) => [g.actorCount, g.latestActorIds, g.openedAt])).toEqual([
      [2, ['b', 'a'], at(0)],
      [2, ['d', 'c'], at(61)],
    ]);
    expect(fold.changed.every((g) => g.opened)).toBe(true);
  });

  it('changes nothing when every action is already in its group', () => {
    const stored = storedGroup({ actorCount: 1, latestActorIds: ['a'], updatedAt: at(0) });
    const fold = foldIntoGroups(
      [comment('a', 'c1', 1), comment('a', 'c1', 2)],
      stored,
      () => ({ actors: new Set(['a']), sources: new Set(['c1']) }),
      60_000,
      newId,
    );
    expect(fold).toEqual({ changed: [], joined: [] });
  });
});
