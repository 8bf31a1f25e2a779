import { DATABASE_KINDS } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_GROUP_MEMBERS } from '../src/domain/conversation-rules.js';
import { failureOf, type MessagingFixture, openMessagingFixture } from './support/fixture.js';

describe.each(DATABASE_KINDS)('conversations on %s', (kind) => {
  let f: MessagingFixture;
  beforeAll(async () => {
    f = await openMessagingFixture(kind);
  });
  afterAll(() => f?.close());

  const code = async (promise: Promise<unknown>) => {
    const failure = await failureOf(promise);
    return typeof failure === 'string' ? failure : `${failure.status} ${failure.code}`;
  };

  it('keeps one direct conversation per pair, whoever starts it and however often', async () => {
    const [a, b] = [await f.user(), await f.user()];
    const first = await f.messaging.conversations.create(a, { memberIds: [b] });
    expect(first.created).toBe(true);
    expect(first.conversation).toMatchObject({ kind: 'direct', createdBy: a, lastSeq: 0, readUpTo: 0 });
    expect(first.conversation.memberIds.sort()).toEqual([a, b].sort());
    const again = await f.messaging.conversations.create(b, { memberIds: [a, b, a] });
    expect(again).toMatchObject({ created: false, conversation: { id: first.conversation.id } });
    // Racing creates of the same pair end in one conversation.
    const [c, d] = [await f.user(), await f.user()];
    const raced = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        f.messaging.conversations.create(i % 2 ? c : d, { memberIds: [i % 2 ? d : c] }),
      ),
    );
    expect(new Set(raced.map((r) => r.conversation.id)).size).toBe(1);
    expect(raced.filter((r) => r.created)).toHaveLength(1);
  });

  it('refuses bad member lists, unknown accounts and blocked pairs, writing nothing', async () => {
    const [a, b, c] = [await f.user(), await f.user(), await f.user()];
    expect(await code(f.messaging.conversations.create(a, { memberIds: [a] }))).toBe('400 no_other_members');
    expect(await code(f.messaging.conversations.create(a, { memberIds: [b, c], kind: 'direct' }))).toBe(
      '400 direct_needs_one_member',
    );
    expect(await code(f.messaging.conversations.create(a, { memberIds: [b, 'nobody'] }))).toBe(
      '404 user_not_found',
    );
    const many = await Promise.all(Array.from({ length: MAX_GROUP_MEMBERS }, () => f.social.addUser()));
    expect(await code(f.messaging.conversations.create(a, { memberIds: many }))).toBe('400 too_many_members');
    f.social.block(b, a);
    expect(await code(f.messaging.conversations.create(a, { memberIds: [b] }))).toBe('403 blocked');
    expect(await code(f.messaging.conversations.create(a, { memberIds: [b, c] }))).toBe('403 blocked');
    f.social.unblock(b, a);
    expect((await f.messaging.reads.conversations(a, { limit: 10 })).items).toEqual([]);
    // 255 others plus the caller is exactly the limit.
    const full = await f.messaging.conversations.create(a, { memberIds: many.slice(1) });
    expect(full.conversation.memberIds).toHaveLength(MAX_GROUP_MEMBERS);
    expect(await code(f.messaging.conversations.addMembers(a, full.conversation.id, [b]))).toBe(
      '400 too_many_members',
    );
  });

  it('lists the caller’s conversations newest activity first with a keyset cursor', async () => {
    const me = await f.user('phone');
    const others = [await f.user('x'), await f.user('x'), await f.user('x')];
    const ids: string[] = [];
    for (const other of others) {
      ids.push((await f.messaging.conversations.create(me, { memberIds: [other] })).conversation.id);
      await new Promise((resolve) => setTimeout(resolve, 5)); // distinct activity instants
    }
    // A message moves the oldest to the front.
    await f.messaging.messages.send(me, ids[0] as string, {
      clientMessageId: 'bump',
      envelopes: [{ deviceId: 'x', ciphertext: 'AAAA' }],
    });
    const first = await f.messaging.reads.conversations(me, { limit: 2 });
    expect(first.items.map((c) => c.id)).toEqual([ids[0], ids[2]]);
    expect(first.items[0]?.lastSeq).toBe(1);
    const second = await f.messaging.reads.conversations(me, {
      limit: 2,
      cursor: first.nextCursor as string,
    });
    expect(second.items.map((c) => c.id)).toEqual([ids[1]]);
    expect(second.nextCursor).toBeNull();
    expect(await code(f.messaging.reads.conversations(me, { limit: 2, cursor: 'garbage' }))).toBe(
      '400 invalid_cursor',
    );
    // Someone else's conversation is not found, not forbidden.
    expect(await code(f.messaging.reads.conversation(await f.user(), ids[0] as string))).toBe(
      '404 conversation_not_found',
    );
  });

  it('changes group membership: anyone adds, members leave, only the creator removes others', async () => {
    const [owner, member, newcomer, outsider] = [
      await f.user(),
      await f.user(),
      await f.user(),
      await f.user(),
    ];
    const { conversation: group } = await f.messaging.conversations.create(owner, {
      memberIds: [member],
      kind: 'group',
    });
    expect(group.kind).toBe('group');
    const grown = await f.messaging.conversations.addMembers(member, group.id, [newcomer, owner]);
    expect([...grown.memberIds].sort()).toEqual([owner, member, newcomer].sort());
    expect(await code(f.messaging.conversations.addMembers(outsider, group.id, [outsider]))).toBe(
      '404 conversation_not_found',
    );
    expect(await code(f.messaging.conversations.removeMember(member, group.id, newcomer))).toBe(
      '403 not_conversation_creator',
    );
    await f.messaging.conversations.removeMember(member, group.id, member);
    expect(await code(f.messaging.reads.conversation(member, group.id))).toBe('404 conversation_not_found');
    await f.messaging.conversations.removeMember(owner, group.id, newcomer);
    expect(await code(f.messaging.conversations.removeMember(owner, group.id, newcomer))).toBe(
      '404 member_not_found',
    );
    expect((await f.messaging.reads.conversation(owner, group.id)).memberIds).toEqual([owner]);
    const { conversation: direct } = await f.messaging.conversations.create(owner, { memberIds: [member] });
    expect(await code(f.messaging.conversations.addMembers(owner, direct.id, [newcomer]))).toBe(
      '409 not_a_group',
    );
    expect(await code(f.messaging.conversations.removeMember(owner, direct.id, owner))).toBe(
      '409 not_a_group',
    );
    f.social.block(outsider, owner);
    expect(await code(f.messaging.conversations.addMembers(owner, group.id, [outsider]))).toBe('403 blocked');
  });

  it('moves read marks forward only and tells the other members', async () => {
    const [a, b] = [await f.user('pa'), await f.user('pb')];
    const { conversation } = await f.messaging.conversations.create(a, { memberIds: [b] });
    for (const id of ['1', '2', '3'])
      await f.messaging.messages.send(a, conversation.id, {
        clientMessageId: id,
        envelopes: [{ deviceId: 'pb', ciphertext: 'AAAA' }],
      });
    await f.messaging.conversations.markRead(b, conversation.id, 2);
    await f.messaging.conversations.markRead(b, conversation.id, 1);
    expect((await f.messaging.reads.conversation(b, conversation.id)).readUpTo).toBe(2);
    await f.messaging.conversations.markRead(b, conversation.id, 1000);
    expect((await f.messaging.reads.conversation(b, conversation.id)).readUpTo).toBe(3);
    const receipts = f.realtime.framesFor(a).filter((frame) => frame.channel === 'receipt');
    expect(receipts).toEqual([
      { channel: 'receipt', type: 'read', data: { conversationId: conversation.id, userId: b, upTo: 2 } },
      { channel: 'receipt', type: 'read', data: { conversationId: conversation.id, userId: b, upTo: 3 } },
    ]);
    expect(await code(f.messaging.conversations.markRead(await f.user(), conversation.id, 1))).toBe(
      '404 conversation_not_found',
    );
  });
});
