import { inTransaction } from '@nova/kernel';
import type { MessagingContext } from '../context.js';
import { tooManyOneTimePreKeys } from '../domain/key-rules.js';
import { type ClaimedBundle, deviceRepository } from '../store/device-repository.js';

export interface PublishKeysInput {
  deviceId: string;
  identityKey: string;
  signedPreKey: string;
  oneTimePreKeys: readonly string[];
}

export interface KeyCommands {
  /** Registers or updates one device of `userId`; over the per-device cap nothing changes (400). */
  publish(userId: string, input: PublishKeysInput): Promise<void>;
  /** One bundle per device of `userId`, each claiming one one-time pre-key (null when none is left). */
  claimBundles(userId: string): Promise<ClaimedBundle[]>;
}

export function createKeyCommands(ctx: MessagingContext): KeyCommands {
  const limits = ctx.settings.keys;
  return {
    async publish(userId, input) {
      if (input.oneTimePreKeys.length > limits.perRequest) throw tooManyOneTimePreKeys(limits.perRequest);
      await inTransaction(ctx.database, async (tx) => {
        const { identityChanged } = await deviceRepository.upsert(tx, { userId, ...input });
        if (identityChanged) await deviceRepository.clearPool(tx, userId, input.deviceId);
        const size = await deviceRepository.addToPool(tx, userId, input.deviceId, input.oneTimePreKeys);
        // Thrown inside the transaction: the device update rolls back with the keys.
        if (size > limits.perDevice) throw tooManyOneTimePreKeys(limits.perDevice);
      });
    },
    claimBundles: (userId) => inTransaction(ctx.database, (tx) => deviceRepository.claimBundles(tx, userId)),
  };
}
