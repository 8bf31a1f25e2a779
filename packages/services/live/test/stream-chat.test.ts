import type { ChannelDefinition, ChannelRefusal, Frame, SocketContext } from '@nova/kernel';
import { eventually } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerStreamChannels } from '../src/chat/stream-channels.js';
import { ANNOUNCE_INTERVAL_MS, createViewerRegistry } from '../src/chat/viewer-registry.js';
import { createStreamCommands } from '../src/commands/stream-commands.js';
import { type LiveFixture, openLiveFixture } from './support/live-fixture.js';

/**
 * A socket of one user as a channel handler sees it: `sent` holds the frames
 * sent to it alone; close() runs its close hooks like the kernel does.
 */
function socketOf(userId: string, n: number) {
  const closers: (() => void)[] = [];
  const sent: Frame[] = [];
  const socket: SocketContext = {
    userId,
    sessionId: `session-${userId}`,
    deviceId: undefined,
    connectionId: `conn-${userId}-${n}`,
    send: (frame) => void sent.push(frame),
    join: async () => undefined,
    leave: async () => undefined,
    onClose: (listener) => void closers.push(listener),
  };
  const close = () => {
    for (const fn of closers.splice(0)) fn();
  };
  return { socket, close, sent };
}

describe('stream chat and viewers (PGlite, in-process stores)', () => {
  let fx: LiveFixture;
  let stream: ChannelDefinition;
  let chat: ChannelDefinition;
  let streamId: string;
  const frames = (type: string) =>
    fx.published.filter((p) => p.frame.channel === 'stream.chat' && p.frame.type === type);
  const refusal = (work: Promise<unknown>) =>
    work.then(
      () => undefined,
      (error: unknown) => error as ChannelRefusal,
    );

  beforeAll(async () => {
    fx = await openLiveFixture('pglite');
    const commands = createStreamCommands(fx.ctx, () => 1935);
    registerStreamChannels(fx.ctx, createViewerRegistry(fx.ctx), commands);
    stream = fx.channels.find((c) => c.name === 'stream') as ChannelDefinition;
    chat = fx.channels.find((c) => c.name === 'stream.chat') as ChannelDefinition;
    streamId = (await commands.create('owner', {})).id;
  });
  afterAll(() => fx?.close());

  const roomCounts = (id: string) =>
    fx.published
      .filter(
        (p) => p.frame.channel === 'stream.viewers' && 'room' in p.target && p.target.room === `stream:${id}`,
      )
      .map((p) => (p.frame.data as { count: number }).count);

  it('counts viewers on join, and drops a socket that closes without leaving', async () => {
    const alice = socketOf('alice', 1);
    const bob = socketOf('bob', 1);
    await stream.handle?.(alice.socket, 'join', { streamId });
    await stream.handle?.(bob.socket, 'join', { streamId });
    // Bob joined within the interval of Alice's announcement: he is told the count himself, the room a moment later.
    expect(bob.sent.map((f) => f.data)).toEqual([{ streamId, count: 2 }]);
    await eventually(async () => expect(roomCounts(streamId).slice(-1)).toEqual([2]), 5000);
    bob.close();
    await eventually(async () => expect(roomCounts(streamId).slice(-1)).toEqual([1]), 5000);
  });

  it('announces a burst of joins to the room once per interval, ending on the final count', async () => {
    const burst = (await createStreamCommands(fx.ctx, () => 1935).create('owner', {})).id;
    const viewers = Array.from({ length: 300 }, (_, i) => socketOf(`burst-${i % 30}`, i));
    const started = Date.now();
    await Promise.all(viewers.map((v) => stream.handle?.(v.socket, 'join', { streamId: burst })));
    await eventually(async () => expect(roomCounts(burst).slice(-1)).toEqual([300]), 5000);
    await new Promise((r) => setTimeout(r, ANNOUNCE_INTERVAL_MS + 200));
    // One announcement per interval that had joins in it (was one per join: 300 frames to up to 300 sockets each).
    const intervals = Math.ceil((Date.now() - started) / ANNOUNCE_INTERVAL_MS);
    expect(roomCounts(burst).length).toBeLessThanOrEqual(intervals + 1);
    expect(roomCounts(burst).at(-1)).toBe(300);
    // Every joiner heard a count: the room's announcement or its own frame.
    expect(viewers.filter((v) => v.sent.length === 0).length).toBeLessThanOrEqual(1);
  });

  it('refuses chat before joining, too long, and over the per-minute limit', async () => {
    const carol = socketOf('carol', 1);
    expect(
      (await refusal(Promise.resolve(chat.handle?.(carol.socket, 'send', { streamId, text: 'hi' }))))?.code,
    ).toBe('forbidden');
    await stream.handle?.(carol.socket, 'join', { streamId });
    expect(
      (
        await refusal(
          Promise.resolve(chat.handle?.(carol.socket, 'send', { streamId, text: 'x'.repeat(501) })),
        )
      )?.code,
    ).toBe('invalid_data');
    for (let i = 0; i < 3; i++) await chat.handle?.(carol.socket, 'send', { streamId, text: `message ${i}` });
    const limited = await refusal(
      Promise.resolve(chat.handle?.(carol.socket, 'send', { streamId, text: 'one more' })),
    );
    expect(limited?.code).toBe('rate_limited');
    expect(
      frames('message').filter((f) => (f.frame.data as { senderId: string }).senderId === 'carol'),
    ).toHaveLength(3);
  });

  it('hides a message from viewers who block its sender', async () => {
    const dave = socketOf('dave', 1);
    const erin = socketOf('erin', 1);
    await stream.handle?.(dave.socket, 'join', { streamId });
    await stream.handle?.(erin.socket, 'join', { streamId });
    fx.social.block('erin', 'dave');
    await chat.handle?.(dave.socket, 'send', { streamId, text: 'from dave' });
    const sent = frames('message').at(-1);
    expect(sent?.target).toMatchObject({ room: `stream:${streamId}`, exceptUserIds: ['erin'] });
  });

  it('lets the owner alone ban and delete; a banned user cannot chat', async () => {
    const owner = socketOf('owner', 1);
    const frank = socketOf('frank', 1);
    await stream.handle?.(frank.socket, 'join', { streamId });
    expect(
      (await refusal(Promise.resolve(chat.handle?.(frank.socket, 'ban', { streamId, userId: 'alice' }))))
        ?.code,
    ).toBe('forbidden');
    await chat.handle?.(owner.socket, 'ban', { streamId, userId: 'frank' });
    expect(frames('banned').at(-1)?.frame.data).toEqual({ streamId, userId: 'frank' });
    expect(
      (await refusal(Promise.resolve(chat.handle?.(frank.socket, 'send', { streamId, text: 'hello' }))))
        ?.code,
    ).toBe('forbidden');
    await chat.handle?.(owner.socket, 'delete', { streamId, messageId: 'm-1' });
    expect(frames('deleted').at(-1)?.frame.data).toEqual({ streamId, messageId: 'm-1' });
    expect(
      (await refusal(Promise.resolve(chat.handle?.(frank.socket, 'delete', { streamId, messageId: 'm-1' }))))
        ?.code,
    ).toBe('forbidden');
  });
});
