import { randomUUID } from 'node:crypto';
import { inTransaction } from '@nova/kernel';
import type { Transaction } from 'kysely';
import type { MessagingContext } from '../context.js';
import { conversationClosed, conversationNotFound } from '../domain/conversation-rules.js';
import {
  addressEnvelopes,
  type EnvelopeInput,
  senderDeviceRequired,
  unknownSenderDevice,
} from '../domain/envelope-rules.js';
import { messagingEvent } from '../events.js';
import type { Delivery } from '../realtime/delivery.js';
import { conversationRepository } from '../store/conversation-repository.js';
import { deviceRepository } from '../store/device-repository.js';
import { messageRepository, type StoredMessage } from '../store/message-repository.js';
import type { MessagingTables } from '../store/tables.js';
import type { MemberChecks } from './member-checks.js';

export interface NewMessage {
  clientMessageId: string;
  /** The sending device; may be left out when the caller has exactly one. */
  senderDeviceId?: string | undefined;
  envelopes: readonly EnvelopeInput[];
}

export interface MessageCommands {
  /**
   * Stores a message with one envelope per recipient device and a new
   * sequence, publishes message.sent and pushes the envelopes to the devices'
   * sockets. A resend with the same clientMessageId answers the first
   * message (`created: false`) and changes nothing.
   */
  send(
    callerId: string,
    conversationId: string,
    input: NewMessage,
  ): Promise<{ message: StoredMessage; created: boolean }>;
  /**
   * A device has every message of the conversation up to `upTo`: its
   * envelopes are marked delivered and the senders get `delivered` receipts.
   */
  acknowledge(
    device: { userId: string; deviceId: string },
    conversationId: string,
    upTo: number,
  ): Promise<void>;
}

async function senderDevice(
  tx: Transaction<MessagingTables>,
  userId: string,
  named: string | undefined,
): Promise<string> {
  if (named !== undefined) {
    if (!(await deviceRepository.hasDevice(tx, userId, named))) throw unknownSenderDevice(named);
    return named;
  }
  const own = await deviceRepository.devicesOf(tx, [userId]);
  if (own.length === 1) return (own[0] as { deviceId: string }).deviceId;
  if (own.length === 0) throw unknownSenderDevice('(none registered)');
  throw senderDeviceRequired();
}

export function createMessageCommands(
  ctx: MessagingContext,
  checks: MemberChecks,
  delivery: Delivery,
): MessageCommands {
  const { database, outbox } = ctx;
  return {
    async send(callerId, conversationId, input) {
      const conversation = await checks.conversationOf(callerId, conversationId);
      if (conversation.kind === 'direct') {
        const other = conversation.memberIds.find((id) => id !== callerId);
        if (!other) throw conversationClosed();
        await checks.assertNotBlocked(callerId, other);
      }
      const result = await inTransaction(database, async (tx) => {
        // The lock orders this conversation's sends: sequences without gaps, and
        // concurrent resends of one clientMessageId find the first one stored.
        const locked = await conversationRepository.lock(tx, conversationId);
        if (!locked) throw conversationNotFound();
        const first = await messageRepository.findByClientId(
          tx,
          conversationId,
          callerId,
          input.clientMessageId,
        );
        if (first) return { message: first, created: false, envelopes: [] };
        const members = await conversationRepository.memberIds(tx, conversationId);
        if (!members.includes(callerId)) throw conversationNotFound();
        const deviceId = await senderDevice(tx, callerId, input.senderDeviceId);
        const devices = await deviceRepository.devicesOf(tx, members);
        const envelopes = addressEnvelopes(input.envelopes, devices, { userId: callerId, deviceId });
        const message: StoredMessage = {
          id: randomUUID(),
          conversationId,
          seq: locked.lastSeq + 1,
          senderId: callerId,
          senderDeviceId: deviceId,
          clientMessageId: input.clientMessageId,
          sentAt: new Date(),
        };
        await messageRepository.insert(tx, message, envelopes);
        await conversationRepository.advance(tx, conversationId, message.seq, message.sentAt);
        const recipientIds = members.filter((id) => id !== callerId);
        await outbox.write(tx, [
          messagingEvent.messageSent({
            messageId: message.id,
            conversationId,
            conversationKind: locked.kind,
            seq: message.seq,
            senderId: callerId,
            senderDeviceId: deviceId,
            recipientIds,
            sentAt: message.sentAt.toISOString(),
          }),
        ]);
        return { message, created: true, envelopes };
      });
      if (result.created) await delivery.message(result.message, result.envelopes);
      return { message: result.message, created: result.created };
    },

    async acknowledge(device, conversationId, upTo) {
      await checks.conversationOf(device.userId, conversationId);
      const delivered = await inTransaction(database, (tx) =>
        messageRepository.markDelivered(tx, device, conversationId, upTo, new Date()),
      );
      if (delivered.length > 0) await delivery.delivered(conversationId, device, delivered);
    },
  };
}
