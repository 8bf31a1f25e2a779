import { type Kysely, sql } from 'kysely';
import type { MessagingTables } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<MessagingTables>;

export interface DeviceKeys {
  userId: string;
  deviceId: string;
  identityKey: string;
  signedPreKey: string;
}

export interface DevicePool {
  deviceId: string;
  oneTimePreKeysLeft: number;
}

export interface ClaimedBundle {
  deviceId: string;
  identityKey: string;
  signedPreKey: string;
  oneTimePreKey: string | null;
}

/** Devices of accounts with their published keys (the aggregate holds the one-time pre-key pool). */
export const deviceRepository = {
  /**
   * Creates or updates a device and leaves its row locked until the
   * transaction ends, so concurrent uploads to one device count its pool in
   * turn. Answers whether the identity key changed (a reinstalled device):
   * the old pool was made for the old identity.
   */
  async upsert(tx: Db, device: DeviceKeys): Promise<{ created: boolean; identityChanged: boolean }> {
    const inserted = await tx
      .insertInto('devices')
      .values({
        user_id: device.userId,
        device_id: device.deviceId,
        identity_key: device.identityKey,
        signed_pre_key: device.signedPreKey,
      })
      .onConflict((oc) => oc.columns(['user_id', 'device_id']).doNothing())
      .returning('device_id')
      .executeTakeFirst();
    if (inserted) return { created: true, identityChanged: false };
    const current = await tx
      .selectFrom('devices')
      .select('identity_key')
      .where('user_id', '=', device.userId)
      .where('device_id', '=', device.deviceId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    await tx
      .updateTable('devices')
      .set({ identity_key: device.identityKey, signed_pre_key: device.signedPreKey, updated_at: new Date() })
      .where('user_id', '=', device.userId)
      .where('device_id', '=', device.deviceId)
      .execute();
    return { created: false, identityChanged: current.identity_key !== device.identityKey };
  },

  async clearPool(tx: Db, userId: string, deviceId: string): Promise<void> {
    await tx
      .deleteFrom('one_time_pre_keys')
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .execute();
  },

  /** Adds keys to a device's pool; a key it already holds is kept once. Answers the pool's size after. */
  async addToPool(tx: Db, userId: string, deviceId: string, keys: readonly string[]): Promise<number> {
    if (keys.length > 0) {
      await tx
        .insertInto('one_time_pre_keys')
        .values(keys.map((key) => ({ user_id: userId, device_id: deviceId, key })))
        .onConflict((oc) => oc.columns(['user_id', 'device_id', 'key']).doNothing())
        .execute();
    }
    const { n } = await tx
      .selectFrom('one_time_pre_keys')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .executeTakeFirstOrThrow();
    return Number(n);
  },

  async listPools(db: Db, userId: string): Promise<DevicePool[]> {
    const t = tablesOf(db);
    const { rows } = await sql<{ device_id: string; left: string }>`
      SELECT d.device_id,
             (SELECT count(*) FROM ${t.one_time_pre_keys} k
               WHERE k.user_id = d.user_id AND k.device_id = d.device_id)::text AS left
        FROM ${t.devices} d
       WHERE d.user_id = ${userId}
       ORDER BY d.device_id`.execute(db);
    return rows.map((r) => ({ deviceId: r.device_id, oneTimePreKeysLeft: Number(r.left) }));
  },

  /**
   * One bundle per device of `userId`, each taking (deleting) the oldest
   * one-time pre-key of its device, in one statement. SKIP LOCKED makes a
   * concurrent claim take the next key instead of waiting for a row that the
   * first claim deletes; a key is handed out at most once either way.
   */
  async claimBundles(db: Db, userId: string): Promise<ClaimedBundle[]> {
    const t = tablesOf(db);
    const { rows } = await sql<{
      device_id: string;
      identity_key: string;
      signed_pre_key: string;
      key: string | null;
    }>`
      WITH claimed AS (
        DELETE FROM ${t.one_time_pre_keys}
         WHERE id IN (
           SELECT (SELECT k.id FROM ${t.one_time_pre_keys} k
                    WHERE k.user_id = d.user_id AND k.device_id = d.device_id
                    ORDER BY k.id LIMIT 1 FOR UPDATE SKIP LOCKED)
             FROM ${t.devices} d
            WHERE d.user_id = ${userId})
        RETURNING device_id, key)
      SELECT d.device_id, d.identity_key, d.signed_pre_key, c.key
        FROM ${t.devices} d LEFT JOIN claimed c ON c.device_id = d.device_id
       WHERE d.user_id = ${userId}
       ORDER BY d.device_id`.execute(db);
    return rows.map((r) => ({
      deviceId: r.device_id,
      identityKey: r.identity_key,
      signedPreKey: r.signed_pre_key,
      oneTimePreKey: r.key,
    }));
  },

  async hasDevice(db: Db, userId: string, deviceId: string): Promise<boolean> {
    const row = await db
      .selectFrom('devices')
      .select('device_id')
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return row !== undefined;
  },

  /** Removes every device of an account (their pools go by the cascade). Answers how many. */
  async purgeUser(db: Db, userId: string): Promise<number> {
    const gone = await db
      .deleteFrom('devices')
      .where('user_id', '=', userId)
      .returning('device_id')
      .execute();
    return gone.length;
  },
};
