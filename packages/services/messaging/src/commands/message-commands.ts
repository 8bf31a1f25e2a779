import { randomUUID } from 'node:crypto';
import { inTransaction } from '@nova/kernel';
import type { MessagingContext } from '../context.js';
import { conversationClosed, conversationNotFound } from '../domain/conversation-rules.js';
import {
  addressEnvelopes,
  type DeviceRef,
  type EnvelopeInput,
  senderDeviceRequired,
  unknownSenderDevice,
} from '../domain/envelope-rules.js';
import { messagingEvent } from '../events.js';
import type { Delivery } from '../realtime/delivery.js';
import { messageRepository, type StoredMessage } from '../store/message-repository.js';
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

/** The sending device: the one named (registered to the sender), or the sender's only device. */
function senderDevice(devices: readonly DeviceRef[], senderId: string, named: string | undefined): string {
  const own = devices.filter((d) => d.userId === senderId).map((d) => d.deviceId);
  if (named !== undefined) {
    if (!own.includes(named)) throw unknownSenderDevice(named);
    return named;
  }
  if (own.length === 1) return own[0] as string;
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
        const state = await messageRepository.lockForSend(
          tx,
          conversationId,
          callerId,
          input.clientMessageId,
        );
        if (!state) throw conversationNotFound();
        if (state.existing) return { message: state.existing, created: false, envelopes: [] };
        const members = state.memberIds;
        if (!members.includes(callerId)) throw conversationNotFound();
        const deviceId = senderDevice(state.devices, callerId, input.senderDeviceId);
        const envelopes = addressEnvelopes(input.envelopes, state.devices, { userId: callerId, deviceId });
        const message: StoredMessage = {
          id: randomUUID(),
          conversationId,
          seq: state.lastSeq + 1,
          senderId: callerId,
          senderDeviceId: deviceId,
          clientMessageId: input.clientMessageId,
          sentAt: new Date(),
        };
        await messageRepository.insert(tx, message, envelopes);
        const recipientIds = members.filter((id) => id !== callerId);
        await outbox.write(tx, [
          messagingEvent.messageSent({
            messageId: message.id,
            conversationId,
            conversationKind: state.kind,
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
