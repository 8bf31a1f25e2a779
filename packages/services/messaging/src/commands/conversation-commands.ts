import { randomUUID } from 'node:crypto';
import { inTransaction, NotFoundError } from '@nova/kernel';
import type { MessagingContext } from '../context.js';
import {
  type ConversationKind,
  conversationNotFound,
  directKey,
  MAX_GROUP_MEMBERS,
  notAGroup,
  onlyCreatorRemoves,
  planConversation,
  tooManyMembers,
} from '../domain/conversation-rules.js';
import type { Delivery } from '../realtime/delivery.js';
import { conversationRepository, type MemberConversation } from '../store/conversation-repository.js';
import type { MemberChecks } from './member-checks.js';

export interface NewConversation {
  memberIds: readonly string[];
  kind?: ConversationKind | undefined;
}

export interface ConversationCommands {
  /** A new conversation, or the pair's existing direct one (`created: false`). */
  create(
    callerId: string,
    input: NewConversation,
  ): Promise<{ conversation: MemberConversation; created: boolean }>;
  /** Any member of a group adds accounts (existing members are ignored). */
  addMembers(
    callerId: string,
    conversationId: string,
    userIds: readonly string[],
  ): Promise<MemberConversation>;
  /** A member leaves, or the group's creator removes another member. */
  removeMember(callerId: string, conversationId: string, userId: string): Promise<void>;
  /** The caller's read receipt: every message up to `upTo` is read (never moves back). */
  markRead(callerId: string, conversationId: string, upTo: number): Promise<void>;
}

export function createConversationCommands(
  ctx: MessagingContext,
  checks: MemberChecks,
  delivery: Delivery,
): ConversationCommands {
  const { database } = ctx;
  const reread = async (callerId: string, id: string) => checks.conversationOf(callerId, id);

  return {
    async create(callerId, input) {
      const plan = planConversation(callerId, input.memberIds, input.kind);
      await checks.assertReachable(callerId, plan.others);
      const at = new Date();
      const { id, created } = await inTransaction(database, (tx) =>
        conversationRepository.create(
          tx,
          {
            id: randomUUID(),
            kind: plan.kind,
            directKey: plan.kind === 'direct' ? directKey(callerId, plan.others[0] as string) : null,
            createdBy: callerId,
            at,
          },
          plan.memberIds,
        ),
      );
      // The pair's direct conversation may have lost the caller (an earlier account deletion): not theirs then.
      return { conversation: await reread(callerId, id), created };
    },

    async addMembers(callerId, conversationId, userIds) {
      const conversation = await checks.conversationOf(callerId, conversationId);
      if (conversation.kind !== 'group') throw notAGroup();
      const current = new Set(conversation.memberIds);
      const joining = [...new Set(userIds)].filter((id) => !current.has(id));
      if (current.size + joining.length > MAX_GROUP_MEMBERS) throw tooManyMembers();
      await checks.assertReachable(callerId, joining);
      await inTransaction(database, async (tx) => {
        if (!(await conversationRepository.lock(tx, conversationId))) throw conversationNotFound();
        const members = await conversationRepository.memberIds(tx, conversationId);
        if (!members.includes(callerId)) throw conversationNotFound();
        const fresh = joining.filter((id) => !members.includes(id));
        // Counted again under the lock: concurrent adds cannot pass the limit together.
        if (members.length + fresh.length > MAX_GROUP_MEMBERS) throw tooManyMembers();
        await conversationRepository.addMembers(tx, conversationId, fresh, new Date());
      });
      return reread(callerId, conversationId);
    },

    async removeMember(callerId, conversationId, userId) {
      const conversation = await checks.conversationOf(callerId, conversationId);
      if (conversation.kind !== 'group') throw notAGroup();
      if (userId !== callerId && conversation.createdBy !== callerId) throw onlyCreatorRemoves();
      const removed = await inTransaction(database, (tx) =>
        conversationRepository.removeMember(tx, conversationId, userId),
      );
      if (!removed)
        throw new NotFoundError('member_not_found', 'That account is not a member of this conversation.');
    },

    async markRead(callerId, conversationId, upTo) {
      const conversation = await checks.conversationOf(callerId, conversationId);
      // A mark past the newest message means "all of it": clamped, never ahead of the sequence.
      const mark = Math.min(upTo, conversation.lastSeq);
      const moved = await inTransaction(database, (tx) =>
        conversationRepository.markRead(tx, conversationId, callerId, mark),
      );
      if (moved) await delivery.read(conversationId, callerId, mark, conversation.memberIds);
    },
  };
}
