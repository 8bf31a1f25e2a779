import { randomUUID } from 'node:crypto';
import { DATABASE_KINDS, type StartedModules } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessagingHandlers } from '../src/api/messaging-handlers.js';
import { createMessagingContext, type MessagingContext } from '../src/context.js';
import { createMessagingHandlers } from '../src/index.js';
import { deviceRepository } from '../src/store/device-repository.js';
import { createSocialDouble } from './support/social-double.js';
import { fakeKey, startMessaging } from './support/start-messaging.js';

describe.each(DATABASE_KINDS)('device key directory on %s', (database) => {
  let nova: StartedModules;
  let ctx: MessagingContext;
  let messaging: MessagingHandlers;
  beforeAll(async () => {
    nova = await startMessaging(database, { listen: false, workers: false });
    ctx = await createMessagingContext(nova.kernel, { social: createSocialDouble() });
    messaging = createMessagingHandlers(ctx);
  });
  afterAll(() => nova?.close());

  const device = (deviceId: string, tag: string, oneTimePreKeys: string[] = []) => ({
    deviceId,
    identityKey: fakeKey(`id-${tag}`),
    signedPreKey: fakeKey(`spk-${tag}`),
    oneTimePreKeys,
  });
  const keys = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => fakeKey(`${prefix}-${i}`));

  it('registers devices, adds to their pools once per key, and hands keys out oldest first', async () => {
    const user = randomUUID();
    const phone = keys('phone', 3);
    await messaging.keys.publish(user, device('phone', 'p1', phone));
    await messaging.keys.publish(user, device('laptop', 'l1', []));
    // A retried upload of the same keys keeps one copy of each.
    await messaging.keys.publish(user, device('phone', 'p1', [phone[0] as string, ...keys('phone-more', 1)]));
    expect(await messaging.queries.ownDevices(user)).toEqual([
      { deviceId: 'laptop', oneTimePreKeysLeft: 0 },
      { deviceId: 'phone', oneTimePreKeysLeft: 4 },
    ]);
    const first = await messaging.keys.claimBundles(user);
    expect(first).toEqual([
      {
        deviceId: 'laptop',
        identityKey: fakeKey('id-l1'),
        signedPreKey: fakeKey('spk-l1'),
        oneTimePreKey: null,
      },
      {
        deviceId: 'phone',
        identityKey: fakeKey('id-p1'),
        signedPreKey: fakeKey('spk-p1'),
        oneTimePreKey: phone[0],
      },
    ]);
    expect((await messaging.keys.claimBundles(user))[1]?.oneTimePreKey).toBe(phone[1]);
    expect(await messaging.queries.ownDevices(user)).toContainEqual({
      deviceId: 'phone',
      oneTimePreKeysLeft: 2,
    });
    expect(await messaging.keys.claimBundles(randomUUID())).toEqual([]);
  });

  it('replaces the signed pre-key in place and drops the pool when the identity key changes', async () => {
    const user = randomUUID();
    await messaging.keys.publish(user, device('d', 'a', keys('a', 2)));
    await messaging.keys.publish(user, {
      ...device('d', 'a', keys('a2', 1)),
      signedPreKey: fakeKey('spk-rotated'),
    });
    let [bundle] = await messaging.keys.claimBundles(user);
    expect(bundle).toMatchObject({ signedPreKey: fakeKey('spk-rotated'), oneTimePreKey: keys('a', 1)[0] });
    // Reinstalled: a new identity; keys made for the old one must never be handed out.
    await messaging.keys.publish(user, device('d', 'reinstalled', keys('b', 1)));
    expect(await messaging.queries.ownDevices(user)).toEqual([{ deviceId: 'd', oneTimePreKeysLeft: 1 }]);
    [bundle] = await messaging.keys.claimBundles(user);
    expect(bundle).toMatchObject({ identityKey: fakeKey('id-reinstalled'), oneTimePreKey: keys('b', 1)[0] });
  });

  it('refuses an upload over the per-device cap and changes nothing', async () => {
    const user = randomUUID();
    const { perDevice, perRequest } = ctx.settings.keys;
    let uploaded = 0;
    while (uploaded + perRequest <= perDevice) {
      await messaging.keys.publish(user, device('d', 'a', keys(`batch${uploaded}`, perRequest)));
      uploaded += perRequest;
    }
    const over = perDevice - uploaded + 1;
    await expect(
      messaging.keys.publish(user, {
        ...device('d', 'a', keys('over', over)),
        signedPreKey: fakeKey('spk-new'),
      }),
    ).rejects.toMatchObject({ status: 400, code: 'too_many_one_time_pre_keys' });
    await expect(
      messaging.keys.publish(user, device('d', 'a', keys('big', perRequest + 1))),
    ).rejects.toMatchObject({ status: 400, code: 'too_many_one_time_pre_keys' });
    expect(await messaging.queries.ownDevices(user)).toEqual([
      { deviceId: 'd', oneTimePreKeysLeft: uploaded },
    ]);
    const [bundle] = await messaging.keys.claimBundles(user);
    expect(bundle?.signedPreKey).toBe(fakeKey('spk-a'));
  });

  it('purges every device and key of an account, and only of that account', async () => {
    const gone = randomUUID();
    const kept = randomUUID();
    await messaging.keys.publish(gone, device('a', 'g', keys('g', 2)));
    await messaging.keys.publish(gone, device('b', 'g', keys('g2', 2)));
    await messaging.keys.publish(kept, device('a', 'k', keys('k', 2)));
    expect(await deviceRepository.purgeUser(ctx.database.db, gone)).toBe(2);
    expect(await messaging.queries.ownDevices(gone)).toEqual([]);
    expect(await messaging.keys.claimBundles(gone)).toEqual([]);
    expect(await messaging.queries.ownDevices(kept)).toEqual([{ deviceId: 'a', oneTimePreKeysLeft: 2 }]);
    const { n } = await ctx.database.db
      .selectFrom('one_time_pre_keys')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', gone)
      .executeTakeFirstOrThrow();
    expect(Number(n)).toBe(0);
    expect(await deviceRepository.purgeUser(ctx.database.db, gone)).toBe(0);
  });
});
