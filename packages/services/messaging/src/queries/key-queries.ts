import type { MessagingContext } from '../context.js';
import { type DevicePool, deviceRepository } from '../store/device-repository.js';

export interface KeyQueries {
  /** The caller's devices and how many one-time pre-keys each has left (time to upload more). */
  ownDevices(userId: string): Promise<DevicePool[]>;
}

export function createKeyQueries(ctx: MessagingContext): KeyQueries {
  return {
    ownDevices: (userId) => deviceRepository.listPools(ctx.database.db, userId),
  };
}
