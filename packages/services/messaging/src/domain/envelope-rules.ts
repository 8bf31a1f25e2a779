import { ConflictError, ValidationError } from '@nova/kernel';

/**
 * Ciphertext of one envelope, as base64 characters: 64 KiB, room for a long
 * text message with its ratchet header (media travels as an encrypted upload
 * the message points to). The whole body is bounded by NOVA_BODY_LIMIT_BYTES.
 */
export const CIPHERTEXT_BASE64_MAX = 64 * 1024;
/** Envelopes one send may carry: 256 members with four devices each. */
export const MAX_ENVELOPES = 1024;
/** A client's idempotency key: a UUID or anything id-shaped. */
export const CLIENT_MESSAGE_ID_MAX = 64;

export interface EnvelopeInput {
  deviceId: string;
  /** The recipient; may be left out when the device id alone names one device of the members. */
  userId?: string | undefined;
  ciphertext: string;
}

export interface AddressedEnvelope {
  recipientId: string;
  deviceId: string;
  ciphertext: string;
}

export interface DeviceRef {
  userId: string;
  deviceId: string;
}

const refKey = (userId: string, deviceId: string) => `${userId}\n${deviceId}`;

function envelopeError(code: string, message: string, field: string, detail: string): ValidationError {
  return new ValidationError(message, [{ field, message: detail }], code);
}

/**
 * Addresses each envelope to one registered device of the conversation's
 * members and checks the set is exactly "every member device except the one
 * sending": an unknown, ambiguous or repeated device is a 400; a device left
 * out is a 409 naming the missing devices, so the client fetches their keys
 * and sends again (a device registered since its last look).
 */
export function addressEnvelopes(
  envelopes: readonly EnvelopeInput[],
  memberDevices: readonly DeviceRef[],
  sender: DeviceRef,
): AddressedEnvelope[] {
  const targets = memberDevices.filter(
    (d) => !(d.userId === sender.userId && d.deviceId === sender.deviceId),
  );
  const byKey = new Map(targets.map((d) => [refKey(d.userId, d.deviceId), d]));
  const byDeviceId = new Map<string, DeviceRef[]>();
  for (const d of targets) byDeviceId.set(d.deviceId, [...(byDeviceId.get(d.deviceId) ?? []), d]);

  const addressed: AddressedEnvelope[] = [];
  const seen = new Set<string>();
  envelopes.forEach((envelope, index) => {
    const field = `/envelopes/${index}`;
    let target: DeviceRef | undefined;
    if (envelope.userId !== undefined) {
      target = byKey.get(refKey(envelope.userId, envelope.deviceId));
    } else {
      const candidates = byDeviceId.get(envelope.deviceId) ?? [];
      if (candidates.length > 1)
        throw envelopeError(
          'ambiguous_device',
          'Several members have a device with this id; name the recipient with userId.',
          field,
          `device "${envelope.deviceId}" belongs to more than one member`,
        );
      target = candidates[0];
    }
    if (!target)
      throw envelopeError(
        'unknown_device',
        'An envelope is addressed to a device that is not a registered device of a member (or is the sending device).',
        field,
        `unknown device "${envelope.deviceId}"${envelope.userId ? ` of ${envelope.userId}` : ''}`,
      );
    const key = refKey(target.userId, target.deviceId);
    if (seen.has(key))
      throw envelopeError(
        'duplicate_envelope',
        'Each device gets exactly one envelope.',
        field,
        `a second envelope for device "${target.deviceId}"`,
      );
    seen.add(key);
    addressed.push({
      recipientId: target.userId,
      deviceId: target.deviceId,
      ciphertext: envelope.ciphertext,
    });
  });

  const missing = targets.filter((d) => !seen.has(refKey(d.userId, d.deviceId)));
  if (missing.length > 0) {
    throw new ConflictError(
      'missing_devices',
      'Every registered device of the members (except the sending one) needs an envelope; fetch the keys of the missing devices and send again.',
      { missingDevices: missing },
    );
  }
  return addressed;
}

export function unknownSenderDevice(deviceId: string): ValidationError {
  return envelopeError(
    'unknown_sender_device',
    'The sending device is not one of your registered devices (PUT /keys first).',
    '/senderDeviceId',
    `unknown device "${deviceId}"`,
  );
}

export function senderDeviceRequired(): ValidationError {
  return envelopeError(
    'sender_device_required',
    'You have several devices; name the sending one with senderDeviceId.',
    '/senderDeviceId',
    'required when the caller has more than one device',
  );
}
