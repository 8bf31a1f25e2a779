import { type Kysely, sql } from 'kysely';
import type { AddressedEnvelope } from '../domain/envelope-rules.js';
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

/** Messages and their envelopes (the aggregate: a message with one ciphertext per recipient device). */
export const messageRepository = {
  /** The message `senderId` already sent with this idempotency key, if any. */
  async findByClientId(
    db: Db,
    conversationId: string,
    senderId: string,
    clientMessageId: string,
  ): Promise<StoredMessage | undefined> {
    const row = await db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .where('sender_id', '=', senderId)
      .where('client_message_id', '=', clientMessageId)
      .executeTakeFirst();
    return row ? toMessage(row) : undefined;
  },

  async insert(tx: Db, message: StoredMessage, envelopes: readonly AddressedEnvelope[]): Promise<void> {
    await tx
      .insertInto('messages')
      .values({
        id: message.id,
        conversation_id: message.conversationId,
        seq: message.seq,
        sender_id: message.senderId,
        sender_device_id: message.senderDeviceId,
        client_message_id: message.clientMessageId,
        created_at: message.sentAt,
      })
      .execute();
    if (envelopes.length === 0) return;
    await tx
      .insertInto('envelopes')
      .values(
        envelopes.map((e) => ({
          message_id: message.id,
          conversation_id: message.conversationId,
          seq: message.seq,
          recipient_id: e.recipientId,
          device_id: e.deviceId,
          ciphertext: e.ciphertext,
        })),
      )
      .execute();
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
