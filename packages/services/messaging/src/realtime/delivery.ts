import type { Frame, Logger, Realtime, RealtimeTarget } from '@nova/kernel';
import type { AddressedEnvelope } from '../domain/envelope-rules.js';
import type { DeliveredEnvelope, StoredMessage } from '../store/message-repository.js';

/**
 * Live frames of messaging, published after the commit that made them true.
 * Fire-and-forget (ADR 020): a device that is offline, or a publish that
 * fails, loses nothing — the device resumes with GET …/messages?after=<seq>.
 */
export interface Delivery {
  /** One `message` frame per envelope, to that recipient device's sockets. */
  message(message: StoredMessage, envelopes: readonly AddressedEnvelope[]): Promise<void>;
  /** `receipt.delivered` to each sender whose messages a device just acknowledged. */
  delivered(
    conversationId: string,
    device: { userId: string; deviceId: string },
    envelopes: readonly DeliveredEnvelope[],
  ): Promise<void>;
  /** `receipt.read` to the conversation's other members. */
  read(conversationId: string, readerId: string, upTo: number, memberIds: readonly string[]): Promise<void>;
}

export function createDelivery(realtime: Realtime, logger: Logger): Delivery {
  const publishAll = async (sends: [RealtimeTarget, Frame][]) => {
    const results = await Promise.allSettled(sends.map(([target, frame]) => realtime.publish(target, frame)));
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length > 0)
      logger.warn(
        { err: (failed[0] as PromiseRejectedResult).reason, failed: failed.length, of: sends.length },
        'realtime publish failed; devices resume from their sequence',
      );
  };
  return {
    message(message, envelopes) {
      const sentAt = message.sentAt.toISOString();
      return publishAll(
        envelopes.map((e) => [
          { userId: e.recipientId, deviceId: e.deviceId },
          {
            channel: 'message',
            type: 'new',
            data: {
              conversationId: message.conversationId,
              messageId: message.id,
              seq: message.seq,
              senderId: message.senderId,
              senderDeviceId: message.senderDeviceId,
              ciphertext: e.ciphertext,
              sentAt,
            },
          },
        ]),
      );
    },
    delivered(conversationId, device, envelopes) {
      const bySender = new Map<string, DeliveredEnvelope[]>();
      for (const e of envelopes) {
        if (e.senderId === device.userId) continue; // one's own other device: no receipt to oneself
        bySender.set(e.senderId, [...(bySender.get(e.senderId) ?? []), e]);
      }
      return publishAll(
        [...bySender].map(([senderId, mine]) => [
          { userId: senderId },
          {
            channel: 'receipt',
            type: 'delivered',
            data: {
              conversationId,
              userId: device.userId,
              deviceId: device.deviceId,
              messageIds: mine.map((e) => e.messageId),
              upTo: Math.max(...mine.map((e) => e.seq)),
            },
          },
        ]),
      );
    },
    read(conversationId, readerId, upTo, memberIds) {
      const frame = { channel: 'receipt', type: 'read', data: { conversationId, userId: readerId, upTo } };
      return publishAll(memberIds.filter((id) => id !== readerId).map((userId) => [{ userId }, frame]));
    },
  };
}
