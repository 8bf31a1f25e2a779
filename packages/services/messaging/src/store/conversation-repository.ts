import { type Kysely, sql } from 'kysely';
import type { ConversationKind } from '../domain/conversation-rules.js';
import type { MessagingTables } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<MessagingTables>;

export interface ConversationRow {
  id: string;
  kind: ConversationKind;
  createdBy: string;
  createdAt: Date;
  lastActivityAt: Date;
  lastSeq: number;
}

/** A conversation as one of its members sees it. */
export interface MemberConversation extends ConversationRow {
  memberIds: string[];
  readUpTo: number;
}

/** Position in a member's conversation list: newest activity first, id breaking ties. */
export interface ActivityPosition {
  at: Date;
  id: string;
}

interface RawConversation {
  id: string;
  kind: ConversationKind;
  created_by: string;
  created_at: Date | string;
  last_activity_at: Date | string;
  last_seq: string | number;
}

const toRow = (r: RawConversation): ConversationRow => ({
  id: r.id,
  kind: r.kind,
  createdBy: r.created_by,
  createdAt: new Date(r.created_at),
  lastActivityAt: new Date(r.last_activity_at),
  lastSeq: Number(r.last_seq),
});

/** Conversations and their members (the aggregate: a conversation with its member list). */
export const conversationRepository = {
  /**
   * Creates a conversation with its members. A direct one is unique per pair:
   * when the pair already has one (or a concurrent create wins), that one is
   * answered with `created: false` and nothing is written.
   */
  async create(
    tx: Db,
    conversation: {
      id: string;
      kind: ConversationKind;
      directKey: string | null;
      createdBy: string;
      at: Date;
    },
    memberIds: readonly string[],
  ): Promise<{ id: string; created: boolean }> {
    const inserted = await tx
      .insertInto('conversations')
      .values({
        id: conversation.id,
        kind: conversation.kind,
        direct_key: conversation.directKey,
        created_by: conversation.createdBy,
        created_at: conversation.at,
        last_activity_at: conversation.at,
      })
      .onConflict((oc) => oc.column('direct_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) {
      const existing = await tx
        .selectFrom('conversations')
        .select('id')
        .where('direct_key', '=', conversation.directKey)
        .executeTakeFirstOrThrow();
      return { id: existing.id, created: false };
    }
    await tx
      .insertInto('conversation_members')
      .values(
        memberIds.map((userId) => ({
          conversation_id: conversation.id,
          user_id: userId,
          joined_at: conversation.at,
        })),
      )
      .execute();
    return { id: conversation.id, created: true };
  },

  /** The conversation as `userId` sees it; undefined when it does not exist or `userId` is no member. */
  async findForMember(db: Db, id: string, userId: string): Promise<MemberConversation | undefined> {
    const [row] = await conversationRepository.listForMember(db, userId, { ids: [id], limit: 1 });
    return row;
  },

  /**
   * `userId`'s conversations, newest activity first, after `position` (keyset),
   * each with its member ids (one query: the member lists come as arrays).
   */
  async listForMember(
    db: Db,
    userId: string,
    options: { after?: ActivityPosition | undefined; ids?: readonly string[]; limit: number },
  ): Promise<MemberConversation[]> {
    const t = tablesOf(db);
    const after = options.after
      ? sql`AND (c.last_activity_at, c.id) < (${options.after.at.toISOString()}::timestamptz, ${options.after.id})`
      : sql``;
    const only = options.ids ? sql`AND c.id = any(${[...options.ids]}::text[])` : sql``;
    const { rows } = await sql<RawConversation & { read_up_to: string; member_ids: string[] }>`
      SELECT c.id, c.kind, c.created_by, c.created_at, c.last_activity_at, c.last_seq, m.read_up_to,
             (SELECT array_agg(o.user_id ORDER BY o.joined_at, o.user_id)
                FROM ${t.conversation_members} o WHERE o.conversation_id = c.id) AS member_ids
        FROM ${t.conversation_members} m
        JOIN ${t.conversations} c ON c.id = m.conversation_id
       WHERE m.user_id = ${userId} ${after} ${only}
       ORDER BY c.last_activity_at DESC, c.id DESC
       LIMIT ${options.limit}`.execute(db);
    return rows.map((r) => ({ ...toRow(r), memberIds: r.member_ids, readUpTo: Number(r.read_up_to) }));
  },

  async memberIds(db: Db, id: string): Promise<string[]> {
    const rows = await db
      .selectFrom('conversation_members')
      .select('user_id')
      .where('conversation_id', '=', id)
      .orderBy('joined_at')
      .orderBy('user_id')
      .execute();
    return rows.map((r) => r.user_id);
  },

  /**
   * Locks the conversation row until the transaction ends: sends, membership
   * changes and read receipts of one conversation take turns, so sequences
   * are assigned without gaps or duplicates.
   */
  async lock(tx: Db, id: string): Promise<ConversationRow | undefined> {
    const row = await tx
      .selectFrom('conversations')
      .select(['id', 'kind', 'created_by', 'created_at', 'last_activity_at', 'last_seq'])
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    return row ? toRow(row) : undefined;
  },

  /** Adds members; ones already in are kept as they are. Answers the ids actually added. */
  async addMembers(tx: Db, id: string, userIds: readonly string[], at: Date): Promise<string[]> {
    if (userIds.length === 0) return [];
    const added = await tx
      .insertInto('conversation_members')
      .values(userIds.map((userId) => ({ conversation_id: id, user_id: userId, joined_at: at })))
      .onConflict((oc) => oc.columns(['conversation_id', 'user_id']).doNothing())
      .returning('user_id')
      .execute();
    if (added.length > 0)
      await tx.updateTable('conversations').set({ last_activity_at: at }).where('id', '=', id).execute();
    return added.map((r) => r.user_id);
  },

  async removeMember(tx: Db, id: string, userId: string): Promise<boolean> {
    const gone = await tx
      .deleteFrom('conversation_members')
      .where('conversation_id', '=', id)
      .where('user_id', '=', userId)
      .returning('user_id')
      .executeTakeFirst();
    return gone !== undefined;
  },

  /** Moves `userId`'s read mark forward to `upTo` (never back). Answers whether it moved. */
  async markRead(tx: Db, id: string, userId: string, upTo: number): Promise<boolean> {
    const moved = await tx
      .updateTable('conversation_members')
      .set({ read_up_to: upTo })
      .where('conversation_id', '=', id)
      .where('user_id', '=', userId)
      .where('read_up_to', '<', String(upTo))
      .returning('user_id')
      .executeTakeFirst();
    return moved !== undefined;
  },

  /** Removes every membership of an account. Answers how many. */
  async purgeMember(tx: Db, userId: string): Promise<number> {
    const gone = await tx
      .deleteFrom('conversation_members')
      .where('user_id', '=', userId)
      .returning('conversation_id')
      .execute();
    return gone.length;
  },
};
