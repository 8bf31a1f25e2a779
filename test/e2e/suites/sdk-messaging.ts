import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import {
  openDevice,
  refusalCode,
  type SdkDevice,
  type SdkUser,
  signUp,
  startConversation,
} from './sdk-devices.js';

/**
 * End-to-end encrypted messaging through Nova with the SDK, as apps use it:
 * two users with two devices each, an offline device catching up, a device
 * without one-time pre-keys left, group membership changes, and a block.
 * Every text carries `secret` so the caller can search the stores and logs
 * for it afterwards; `control` goes through plaintext paths (a display name,
 * a request URL) to prove the search finds what is there.
 */
export async function sdkMessagingWalk(
  urls: string | { ada: string; bo: string },
): Promise<{ secret: string; control: string }> {
  // With two URLs, bo's devices talk to another process than everyone else's (delivery across processes).
  const { ada: baseUrl, bo: boUrl } = typeof urls === 'string' ? { ada: urls, bo: urls } : urls;
  const secret = `SECRET-${randomUUID()}`;
  const control = `CONTROL-${randomUUID()}`;
  const text = (what: string) => `${what} ${secret}`;

  const [ada, bo] = [await signUp(baseUrl, 'ada'), await signUp(baseUrl, 'bo')];
  const adaPhone = await openDevice(baseUrl, ada, 'phone');
  const adaLaptop = await openDevice(baseUrl, ada, 'laptop');
  const boPhone = await openDevice(boUrl, bo, 'phone');
  const boTablet = await openDevice(boUrl, bo, 'tablet');
  const everyone = [adaPhone, adaLaptop, boPhone, boTablet];
  await Promise.all(everyone.map((device) => device.goOnline()));
  // The control in the clear: stored (a display name) and logged (a request URL).
  await adaPhone.client.api.PATCH('/api/v1/users/me', { body: { displayName: control } });
  await adaPhone.client.api.GET('/api/v1/users/{username}', { params: { path: { username: control } } });

  // --- a direct conversation, two devices on each side ---------------------------------------
  const direct = await startConversation(adaPhone, [bo.id]);
  const hello = text('hello from ada’s phone');
  const sent = await adaPhone.messenger.send(direct.id, hello);
  for (const device of [adaLaptop, boPhone, boTablet]) {
    const read = await device.waitFor(hello);
    expect(read).toMatchObject({ id: sent.id, seq: sent.seq, senderId: ada.id, senderDeviceId: 'phone' });
    expect(read.senderIdentityKey).toBe(adaPhone.messenger.crypto.identityKey);
    expect(Object.keys(read).sort()).toEqual([
      'clientMessageId',
      'conversationId',
      'id',
      'senderDeviceId',
      'senderId',
      'senderIdentityKey',
      'sentAt',
      'seq',
      'text',
    ]);
  }
  expect(adaPhone.received).toEqual([]); // the sending device holds no envelope of its own

  const reply = text('reply from bo’s tablet');
  await boTablet.messenger.send(direct.id, reply);
  for (const device of [adaPhone, adaLaptop, boPhone]) await device.waitFor(reply);

  // Both sides at once, several messages each: every device reads all of them, once, in order.
  const burst = [
    ...['a1', 'a2', 'a3'].map((n) => ({ from: adaLaptop, body: text(n) })),
    ...['b1', 'b2', 'b3'].map((n) => ({ from: boPhone, body: text(n) })),
  ];
  await Promise.all(
    [adaLaptop, boPhone].map(async (from) => {
      for (const { body } of burst.filter((m) => m.from === from)) await from.messenger.send(direct.id, body);
    }),
  );
  for (const device of everyone) {
    for (const { from, body } of burst) if (from !== device) await device.waitFor(body);
    const seqs = device.received.filter((m) => m.conversationId === direct.id).map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  }

  // An idempotent resend: same clientMessageId → the first message, nothing new for anyone.
  const again = await adaPhone.messenger.send(direct.id, hello, { clientMessageId: randomUUID() });
  const resend = await adaPhone.messenger.send(direct.id, hello, { clientMessageId: again.clientMessageId });
  expect(resend.id).toBe(again.id);

  // --- an offline device catches up -----------------------------------------------------------
  boTablet.goOffline();
  const whileAway = [
    text('while you were away 1'),
    text('while you were away 2'),
    text('while you were away 3'),
  ];
  for (const body of whileAway) await adaPhone.messenger.send(direct.id, body);
  for (const body of whileAway) await boPhone.waitFor(body);
  expect(boTablet.received.some((m) => whileAway.includes(m.text))).toBe(false);
  await boTablet.goOnline(); // `ready` → catch up from its last sequence
  for (const body of whileAway) await boTablet.waitFor(body);
  const caughtUp = boTablet.received.filter((m) => whileAway.includes(m.text)).map((m) => m.text);
  expect(caughtUp).toEqual(whileAway);

  // --- a live frame lost on the way: the next one is ahead of the position, so the gap is fetched first ---
  boTablet.goOffline();
  const lost = text('lost frame');
  const next = text('the frame after it');
  await adaPhone.messenger.send(direct.id, lost);
  const nextSent = await adaPhone.messenger.send(direct.id, next);
  const history = await boTablet.client.deviceMessages(direct.id, { deviceId: 'tablet', limit: 100 });
  const item = history.items.find((m) => m.seq === nextSent.seq);
  if (!item) throw new Error('the tablet has no envelope of the message after the lost one');
  const { envelope, id: messageId, ...fields } = item;
  const read = await boTablet.messenger.receiveFrame({
    channel: 'message',
    type: 'new',
    data: { ...fields, messageId, ciphertext: envelope.ciphertext },
  });
  expect(read?.text).toBe(next);
  expect(boTablet.received.slice(-2).map((m) => m.text)).toEqual([lost, next]);
  await boTablet.goOnline();

  // --- pre-key exhaustion: a device with one one-time pre-key, claimed by two devices ----------
  const cy = await signUp(baseUrl, 'cy');
  const cyLaptop = await openDevice(baseUrl, cy, 'laptop', { oneTimePreKeys: 1 });
  await cyLaptop.goOnline();

  // --- a group: created, messages, a member removed, a member added ----------------------------
  const group = await startConversation(adaPhone, [bo.id, cy.id], 'group');
  const toGroup = text('hello group');
  await adaPhone.messenger.send(group.id, toGroup);
  const fromBo = text('bo to the group');
  await boPhone.messenger.send(group.id, fromBo); // bo's phone claims cy's bundle after ada's phone: none left
  for (const device of [adaLaptop, boPhone, boTablet, cyLaptop]) await device.waitFor(toGroup);
  for (const device of [adaPhone, adaLaptop, boTablet, cyLaptop]) await device.waitFor(fromBo);
  expect((await cyLaptop.client.ownDevices()).find((d) => d.deviceId === 'laptop')?.oneTimePreKeysLeft).toBe(
    0,
  );
  expect(await cyLaptop.messenger.topUpPreKeys({ below: 1, batch: 5 })).toBe(5);
  expect((await cyLaptop.client.ownDevices()).find((d) => d.deviceId === 'laptop')?.oneTimePreKeysLeft).toBe(
    5,
  );

  await adaPhone.client.removeMember(group.id, cy.id);
  const afterRemoval = text('after cy left');
  await adaPhone.messenger.send(group.id, afterRemoval);
  await boTablet.waitFor(afterRemoval);
  expect(await refusalCode(cyLaptop.client.deviceMessages(group.id, { deviceId: 'laptop' }))).toBe(
    'conversation_not_found',
  );
  expect(await refusalCode(cyLaptop.messenger.send(group.id, text('cy is out')))).toBe(
    'conversation_not_found',
  );

  const dee = await signUp(baseUrl, 'dee');
  const deePhone = await openDevice(baseUrl, dee, 'phone');
  await deePhone.goOnline();
  await adaLaptop.client.addMembers(group.id, [dee.id]);
  const welcome = text('welcome dee');
  await boTablet.messenger.send(group.id, welcome);
  for (const device of [adaPhone, adaLaptop, boPhone, deePhone]) await device.waitFor(welcome);
  // The new member reads only what was sent after joining.
  expect(deePhone.received.map((m) => m.text)).toEqual([welcome]);
  expect(cyLaptop.received.some((m) => m.text === afterRemoval || m.text === welcome)).toBe(false);

  // --- a block stops the pair's conversation, both ways -----------------------------------------
  await blockAndCheck(bo, boPhone, ada, adaPhone, direct.id, text('after the block'));

  for (const device of [...everyone, cyLaptop, deePhone]) {
    expect(device.undecryptable).toEqual([]);
    device.goOffline();
  }
  return { secret, control };
}

async function blockAndCheck(
  blocker: SdkUser,
  blockerDevice: SdkDevice,
  blocked: SdkUser,
  blockedDevice: SdkDevice,
  conversationId: string,
  body: string,
): Promise<void> {
  const answer = await blockerDevice.client.api.POST('/api/v1/users/{id}/block', {
    params: { path: { id: blocked.id } },
  });
  expect(answer.response.status).toBe(204);
  expect(await refusalCode(blockedDevice.messenger.send(conversationId, body))).toBe('blocked');
  expect(await refusalCode(blockerDevice.messenger.send(conversationId, body))).toBe('blocked');
  expect(await refusalCode(blockedDevice.client.createConversation([blocker.id]))).toBe('blocked');
}
