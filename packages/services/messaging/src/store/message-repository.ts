import { executeRaw } from '@nova/kernel';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { AddressedEnvelope, DeviceRef } from '../domain/envelope-rules.js';
import type { MessagingTables } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<MessagingTables>;

export interface StoredMessage {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  senderDeviceId: string;
  clientMessageId: string;
  sentAt: Date;
}

/** A message with the one envelope addressed to the device that reads it. */
export interface DeviceMessage extends Omit<StoredMessage, 'clientMessageId'> {
  envelope: { deviceId: string; ciphertext: string };
}

/**
 * What a send decides on: read in one statement before the send's
 * transaction (sendView), or under the conversation's lock (lockForSend).
 */
export interface SendState {
  kind: 'direct' | 'group';
  lastSeq: number;
  /** Changes with every membership change (a trigger): the insert stores only if it did not. */
  membersVersion: number;
  /** The message this sender already stored under the same clientMessageId. */
  existing: StoredMessage | undefined;
  memberIds: string[];
  /** Every registered device of the members. */
  devices: DeviceRef[];
}

/** An envelope a device acknowledged just now (for the sender's `delivered` receipt). */
export interface DeliveredEnvelope {
  messageId: string;
  seq: number;
  senderId: string;
}

interface RawMessage {
  id: string;
  conversation_id: string;
  seq: string | number;
  sender_id: string;
  sender_device_id: string;
  client_message_id: string;
  created_at: Date | string;
}

const toMessage = (r: RawMessage): StoredMessage => ({
  id: r.id,
  conversationId: r.conversation_id,
  seq: Number(r.seq),
  senderId: r.sender_id,
  senderDeviceId: r.sender_device_id,
  clientMessageId: r.client_message_id,
  sentAt: new Date(r.created_at),
});

interface RawSendState {
  kind: 'direct' | 'group';
  last_seq: string | number;
  members_version: string | number;
  existing: RawMessage | null;
  member_ids: string[];
  devices: DeviceRef[];
}

const toSendState = (r: RawSendState): SendState => ({
  kind: r.kind,
  lastSeq: Number(r.last_seq),
  membersVersion: Number(r.members_version),
  existing: r.existing ? toMessage(r.existing) : undefined,
  memberIds: r.member_ids,
  devices: r.devices,
});

/** The sender's earlier message under the key, the members and their devices (columns of a send's state). */
const stateColumns = (
  t: ReturnType<typeof tablesOf>,
  conversationId: string,
  senderId: string,
  clientMessageId: string,
) => sql`
  (SELECT row_to_json(m) FROM ${t.messages} m
    WHERE m.conversation_id = ${conversationId} AND m.sender_id = ${senderId}
      AND m.client_message_id = ${clientMessageId}) AS existing,
  (SELECT coalesce(array_agg(cm.user_id ORDER BY cm.user_id), '{}')
     FROM ${t.conversation_members} cm WHERE cm.conversation_id = ${conversationId}) AS member_ids,
  (SELECT coalesce(json_agg(json_build_object('userId', d.user_id, 'deviceId', d.device_id)
                            ORDER BY d.user_id, d.device_id), '[]')
     FROM ${t.conversation_members} cm JOIN ${t.devices} d ON d.user_id = cm.user_id
    WHERE cm.conversation_id = ${conversationId}) AS devices`;

/** Messages and their envelopes (the aggregate: a message with one ciphertext per recipient device). */
export const messageRepository = {
  /**
   * Everything a send decides on, in one statement and without a lock:
   * undefined when the conversation does not exist or `senderId` is not a
   * member (nothing else is answered then). `insert` stores only if
   * `lastSeq` and `membersVersion` are still current.
   */
  async sendView(
    db: Db,
    conversationId: string,
    senderId: string,
    clientMessageId: string,
  ): Promise<SendState | undefined> {
    const t = tablesOf(db);
    const { rows } = await executeRaw(
      sql<RawSendState>`
      SELECT c.kind, c.last_seq, c.members_version, ${stateColumns(t, conversationId, senderId, clientMessageId)}
        FROM ${t.conversations} c
       WHERE c.id = ${conversationId}
         AND EXISTS (SELECT 1 FROM ${t.conversation_members} me
                      WHERE me.conversation_id = c.id AND me.user_id = ${senderId})`,
      db,
    );
    return rows[0] ? toSendState(rows[0]) : undefined;
  },

  /**
   * Locks the conversation for a send, then reads what the send decides on
   * (the way a send goes when its sendView went stale under contention).
   * Two statements on purpose: a statement that waited for the lock still
   * reads with the snapshot it started with, so only a statement after the
   * lock sees the message a concurrent resend has just committed. Undefined
   * when the conversation does not exist.
   */
  async lockForSend(
    tx: Db,
    conversationId: string,
    senderId: string,
    clientMessageId: string,
  ): Promise<SendState | undefined> {
    const t = tablesOf(tx);
    const locked = await executeRaw(
      sql<{ id: string }>`SELECT id FROM ${t.conversations} WHERE id = ${conversationId} FOR UPDATE`,
      tx,
    );
    if (locked.rows.length === 0) return undefined;
    const { rows } = await executeRaw(
      sql<RawSendState>`
      SELECT c.kind, c.last_seq, c.members_version, ${stateColumns(t, conversationId, senderId, clientMessageId)}
        FROM ${t.conversations} c WHERE c.id = ${conversationId}`,
      tx,
    );
    return rows[0] ? toSendState(rows[0]) : undefined;
  },

  /**
   * The statement that stores a message (sequence `message.seq`, which must
   * be `seen.lastSeq + 1`), its envelopes and the conversation's new newest
   * message — only if the conversation's sequence and membership are still
   * those of `seen` — together with `also` (CTEs that may test `bump`, e.g.
   * the outbox's message.sent; answers `stored`). The row lock of its UPDATE orders concurrent
   * sends, and the condition is checked again on the newest row after
   * waiting for it, so a concurrent send, resend or membership change makes
   * it store nothing and answer `stored: 0` (the caller reads again).
   */
  insertStatement(
    db: Db,
    message: StoredMessage,
    envelopes: readonly AddressedEnvelope[],
    seen: { lastSeq: number; membersVersion: number },
    also?: RawBuilder<unknown>,
  ): RawBuilder<{ stored: number }> {
    const t = tablesOf(db);
    return sql<{ stored: number }>`
      WITH bump AS (
        UPDATE ${t.conversations}
           SET last_seq = ${message.seq}, last_activity_at = ${message.sentAt.toISOString()}::timestamptz
         WHERE id = ${message.conversationId} AND last_seq = ${seen.lastSeq}
           AND members_version = ${seen.membersVersion}
        RETURNING id),
      message AS (
        INSERT INTO ${t.messages} (id, conversation_id, seq, sender_id, sender_device_id, client_message_id, created_at)
        SELECT ${message.id}, bump.id, ${message.seq}, ${message.senderId},
               ${message.senderDeviceId}, ${message.clientMessageId}, ${message.sentAt.toISOString()}::timestamptz
          FROM bump),
      envelope AS (
        INSERT INTO ${t.envelopes} (message_id, conversation_id, seq, recipient_id, device_id, ciphertext)
        SELECT ${message.id}, bump.id, ${message.seq}, e.recipient_id, e.device_id, e.ciphertext
          FROM bump, unnest(${envelopes.map((e) => e.recipientId)}::text[], ${envelopes.map((e) => e.deviceId)}::text[],
                            ${envelopes.map((e) => e.ciphertext)}::text[]) AS e(recipient_id, device_id, ciphertext))
      ${also ? sql`, ${also}` : sql``}
      SELECT count(*)::int AS stored FROM bump`;
  },

  /** One device's messages in a conversation with a sequence above `after`, oldest first. */
  async pageForDevice(
    db: Db,
    query: { userId: string; deviceId: string; conversationId: string; after: number; limit: number },
  ): Promise<DeviceMessage[]> {
    const rows = await db
      .selectFrom('envelopes as e')
      .innerJoin('messages as m', 'm.id', 'e.message_id')
      .select([
        'm.id',
        'm.conversation_id',
        'm.seq',
        'm.sender_id',
        'm.sender_device_id',
        'm.created_at',
        'e.device_id',
        'e.ciphertext',
      ])
      .where('e.recipient_id', '=', query.userId)
      .where('e.device_id', '=', query.deviceId)
      .where('e.conversation_id', '=', query.conversationId)
      .where('e.seq', '>', String(query.after))
      .orderBy('e.seq')
      .limit(query.limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      conversationId: r.conversation_id,
      seq: Number(r.seq),
      senderId: r.sender_id,
      senderDeviceId: r.sender_device_id,
      sentAt: new Date(r.created_at),
      envelope: { deviceId: r.device_id, ciphertext: r.ciphertext },
    }));
  },

  /**
   * Marks a device's envelopes in a conversation up to `upTo` delivered.
   * Answers only those not delivered before, so a repeated acknowledgement
   * sends no second receipt.
   */
  async markDelivered(
    tx: Db,
    device: { userId: string; deviceId: string },
    conversationId: string,
    upTo: number,
    at: Date,
  ): Promise<DeliveredEnvelope[]> {
    const t = tablesOf(tx);
    const { rows } = await sql<{ message_id: string; seq: string; sender_id: string }>`
      UPDATE ${t.envelopes} e SET delivered_at = ${at.toISOString()}::timestamptz
        FROM ${t.messages} m
       WHERE m.id = e.message_id
         AND e.recipient_id = ${device.userId} AND e.device_id = ${device.deviceId}
         AND e.conversation_id = ${conversationId} AND e.seq <= ${upTo}
         AND e.delivered_at IS NULL
      RETURNING e.message_id, e.seq, m.sender_id`.execute(tx);
    return rows
      .map((r) => ({ messageId: r.message_id, seq: Number(r.seq), senderId: r.sender_id }))
      .sort((a, b) => a.seq - b.seq);
  },

  /**
   * Retention: removes messages older than `before` whose every envelope was
   * delivered (their envelopes go by the cascade), at most `batch` at a time.
   * Undelivered ones stay until their device comes back. Answers how many.
   */
  async purgeDelivered(db: Db, before: Date, batch: number): Promise<number> {
    const t = tablesOf(db);
    const { rows } = await sql<{ id: string }>`
      DELETE FROM ${t.messages} WHERE id IN (
        SELECT m.id FROM ${t.messages} m
         WHERE m.created_at < ${before.toISOString()}::timestamptz
           AND NOT EXISTS (SELECT 1 FROM ${t.envelopes} e
                            WHERE e.message_id = m.id AND e.delivered_at IS NULL)
         ORDER BY m.created_at
         LIMIT ${batch})
      RETURNING id`.execute(db);
    return rows.length;
  },

  /**
   * Retention of the undelivered: removes envelopes no device acknowledged
   * whose message is older than `before` (a device gone for good), at most
   * `batch` at a time. Answers how many.
   */
  async purgeUndelivered(db: Db, before: Date, batch: number): Promise<number> {
    const t = tablesOf(db);
    const { rows } = await sql<{ seq: string }>`
      DELETE FROM ${t.envelopes} WHERE (recipient_id, device_id, conversation_id, seq) IN (
        SELECT e.recipient_id, e.device_id, e.conversation_id, e.seq
          FROM ${t.envelopes} e JOIN ${t.messages} m ON m.id = e.message_id
         WHERE e.delivered_at IS NULL AND m.created_at < ${before.toISOString()}::timestamptz
         LIMIT ${batch})
      RETURNING seq`.execute(db);
    return rows.length;
  },

  /**
   * A deleted account: envelopes addressed to it and messages it sent (with
   * their envelopes to others). Answers the counts.
   */
  async purgeUser(tx: Db, userId: string): Promise<{ envelopes: number; messages: number }> {
    const envelopes = await tx
      .deleteFrom('envelopes')
      .where('recipient_id', '=', userId)
      .returning('message_id')
      .execute();
    const messages = await tx
      .deleteFrom('messages')
      .where('sender_id', '=', userId)
      .returning('id')
      .execute();
    return { envelopes: envelopes.length, messages: messages.length };
  },
};
