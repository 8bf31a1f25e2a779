import type { MessagingContext } from '../context.js';
import { blockedPair, conversationNotFound, usersNotFound } from '../domain/conversation-rules.js';
import { conversationRepository, type MemberConversation } from '../store/conversation-repository.js';

/**
 * Checks shared by the commands: each reads outside any transaction (PGlite
 * has one session, so nothing may read beside an open transaction's callback).
 */
export function createMemberChecks(ctx: MessagingContext) {
  return {
    /** The conversation as `userId` sees it; 404 when it does not exist or `userId` is no member. */
    async conversationOf(userId: string, conversationId: string): Promise<MemberConversation> {
      const conversation = await conversationRepository.findForMember(
        ctx.database.db,
        conversationId,
        userId,
      );
      if (!conversation) throw conversationNotFound();
      return conversation;
    },

    /**
     * `others` exist (social knows them: 404 naming the unknown ones) and none
     * blocks `actorId` or is blocked by them (403): one batched call each.
     */
    async assertReachable(actorId: string, others: readonly string[]): Promise<void> {
      if (others.length === 0) return;
      const [{ profiles }, { relationships }] = await Promise.all([
        ctx.social.getProfiles({ ids: [...others] }),
        ctx.social.relationships({ viewerId: actorId, ids: [...others] }),
      ]);
      const known = new Set(profiles.map((p) => p.id));
      const unknown = others.filter((id) => !known.has(id));
      if (unknown.length > 0) throw usersNotFound(unknown);
      if (relationships.some((r) => r.blocking || r.blockedBy)) throw blockedPair();
    },

    /** For a direct conversation: either side blocking the other stops it (403). */
    async assertNotBlocked(actorId: string, otherId: string): Promise<void> {
      const { relationships } = await ctx.social.relationships({ viewerId: actorId, ids: [otherId] });
      if (relationships.some((r) => r.blocking || r.blockedBy)) throw blockedPair();
    },
  };
}

export type MemberChecks = ReturnType<typeof createMemberChecks>;
