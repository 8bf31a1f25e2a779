import { Type } from '@sinclair/typebox';
import {
  BASE64_PATTERN,
  DEVICE_ID_MAX,
  DEVICE_ID_PATTERN,
  KEY_BASE64_MAX,
  KEY_LIMITS,
} from '../domain/key-rules.js';

const Key = (description: string) =>
  Type.String({ minLength: 4, maxLength: KEY_BASE64_MAX, pattern: BASE64_PATTERN, description });

const DeviceId = Type.String({
  minLength: 1,
  maxLength: DEVICE_ID_MAX,
  pattern: DEVICE_ID_PATTERN,
  description: 'chosen by the client; unique among the caller’s devices',
});

export const PublishKeysBody = Type.Object(
  {
    deviceId: DeviceId,
    identityKey: Key('the device’s long-term public identity key (base64)'),
    signedPreKey: Key('the current signed pre-key with its signature (base64), replacing the previous one'),
    oneTimePreKeys: Type.Array(Key('a one-time pre-key (base64)'), {
      maxItems: KEY_LIMITS.perRequest,
      uniqueItems: true,
      description: `added to the device’s pool (at most ${KEY_LIMITS.perRequest} per request, ${KEY_LIMITS.perDevice} unclaimed per device); a new identity key discards the old pool`,
    }),
  },
  { additionalProperties: false },
);

export const KeyBundleSchema = Type.Object({
  deviceId: Type.String(),
  identityKey: Type.String(),
  signedPreKey: Type.String(),
  oneTimePreKey: Type.Union([Type.String(), Type.Null()], {
    description: 'claimed for this request only (never handed out again); null when the device has none left',
  }),
});

export const KeyBundlesSchema = Type.Object({ devices: Type.Array(KeyBundleSchema) });

export const DevicePoolsSchema = Type.Object({
  devices: Type.Array(
    Type.Object({
      deviceId: Type.String(),
      oneTimePreKeysLeft: Type.Integer({ minimum: 0 }),
    }),
  ),
});
