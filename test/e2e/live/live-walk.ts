import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import {
  connect,
  eventually,
  type SocketClient,
} from '../../../packages/kernel/test/realtime/socket-client.js';
import { type Answer, httpClient } from './client.js';
import { decode, probe, publish } from './publisher.js';

export interface LiveProcess {
  url: string;
  rtmpPort: number;
}

type Frame = { channel: string; type: string; data?: unknown };
const dataOf = (f: Frame) => (f.data ?? {}) as Record<string, unknown>;

const isCount = (streamId: string, count: number) => (f: Frame) =>
  f.channel === 'stream.viewers' && dataOf(f).streamId === streamId && dataOf(f).count === count;
const isChat = (text: string) => (f: Frame) =>
  f.channel === 'stream.chat' && f.type === 'message' && dataOf(f).text === text;

/**
 * One stream's whole life with a real publisher, the publisher and viewer A
 * on `ingest`, viewer B and the HLS reads on `playback` (the same process in
 * the all-in-one shape).
 */
export async function liveWalk(
  ingest: LiveProcess,
  playback: LiveProcess,
  options: { followOrder: boolean },
): Promise<void> {
  const api = httpClient(ingest.url);
  const other = httpClient(playback.url);
  const owner = await api.account('owner');
  const alice = await api.account('alice');
  const bob = await other.account('bob');
  const carol = await api.account('carol');

  const created = await api.call('POST', '/api/v1/streams', {
    token: owner.token,
    body: { title: 'test pattern' },
  });
  expect(created.status).toBe(201);
  const { id, streamKey, ingestUrl } = created.body as { id: string; streamKey: string; ingestUrl: string };
  expect(ingestUrl).toBe(`rtmp://127.0.0.1:${ingest.rtmpPort}/live`);
  expect((await api.call('GET', `/api/v1/streams/${id}`, { token: alice.token })).body).toMatchObject({
    state: 'created',
    playbackUrl: null,
    viewerCount: 0,
  });

  // A wrong key is refused at publish time: ffmpeg fails and the stream stays as it was.
  const intruder = publish(`rtmp://127.0.0.1:${ingest.rtmpPort}/live/${'x'.repeat(43)}`);
  expect(await intruder.exited).not.toBe(0);
  expect(intruder.output()).toContain('Unknown or ended stream key');
  expect((await api.call('GET', `/api/v1/streams/${id}`, { token: owner.token })).body.state).toBe('created');

  // Viewers join before the stream starts and see each other arrive.
  const a = await connect(ingest.url, { token: alice.token });
  const b = await connect(playback.url, { token: bob.token });
  const sockets: SocketClient[] = [a, b];
  try {
    a.send({ channel: 'stream', type: 'join', data: { streamId: id } });
    await a.next(isCount(id, 1));
    b.send({ channel: 'stream', type: 'join', data: { streamId: id } });
    await b.next(isCount(id, 2));
    await a.next(isCount(id, 2));

    const publisher = publish(`${ingestUrl}/${streamKey}`);
    try {
      let stream: Answer | undefined;
      await eventually(async () => {
        stream = await other.call('GET', `/api/v1/streams/${id}`, { token: bob.token });
        return stream.body.state === 'live';
      }, 20_000);
      expect(stream?.body.viewerCount).toBe(2);
      const playbackUrl = stream?.body.playbackUrl as string;
      expect(playbackUrl).toMatch(new RegExp(`/api/v1/streams/${id}/hls/index.m3u8$`));

      // The playlist (no-cache) names a segment (immutable) that decodes: H.264 copied, AAC copied.
      const playlistPath = new URL(playbackUrl).pathname;
      let playlist: Answer | undefined;
      await eventually(async () => {
        playlist = await other.call('GET', playlistPath);
        return playlist.status === 200 && String(playlist.body).includes('#EXTINF');
      }, 30_000);
      expect(playlist?.headers.get('content-type')).toContain('application/vnd.apple.mpegurl');
      expect(playlist?.headers.get('cache-control')).toBe('no-cache');
      const segmentName = String(playlist?.body)
        .split('\n')
        .find((line) => line.endsWith('.ts')) as string;
      const segment = await fetch(`${playback.url}${playlistPath.replace('index.m3u8', segmentName)}`);
      expect(segment.status).toBe(200);
      expect(segment.headers.get('content-type')).toBe('video/mp2t');
      expect(segment.headers.get('cache-control')).toContain('immutable');
      const file = path.join(tmpdir(), `nova-live-${id}-${segmentName}`);
      await writeFile(file, Buffer.from(await segment.arrayBuffer()));
      const streams = await probe(file);
      expect(streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort()).toEqual([
        'audio:aac',
        'video:h264',
      ]);
      await decode(file);
      // A path out of the stream's directory is never served: live answers 404; behind the gateway
      // its proxy (@fastify/reply-from) refuses the traversal itself with 400 before it leaves.
      expect([400, 404]).toContain((await other.call('GET', `/api/v1/streams/${id}/hls/..%2Fx.ts`)).status);

      // In the live list; followed accounts first.
      if (options.followOrder)
        expect(
          (await api.call('POST', `/api/v1/users/${owner.id}/follow`, { token: alice.token })).status,
        ).toBe(200);
      const list = await api.call('GET', '/api/v1/streams/live', { token: alice.token });
      expect(list.body.items[0]).toMatchObject({ id, state: 'live' });

      // Chat across the two sockets (two processes in the split shape).
      a.send({ channel: 'stream.chat', type: 'send', data: { streamId: id, text: 'hello from alice' } });
      expect((await b.next(isChat('hello from alice'))).data).toMatchObject({ senderId: alice.id });
      b.send({ channel: 'stream.chat', type: 'send', data: { streamId: id, text: 'hi alice, bob here' } });
      await a.next(isChat('hi alice, bob here'));
      // Too long, or not joined: refused without reaching anyone.
      a.send({ channel: 'stream.chat', type: 'send', data: { streamId: id, text: 'x'.repeat(501) } });
      expect((await a.next((f) => f.channel === 'error')).type).toBe('invalid_data');

      // Carol joins; Alice blocks her: Carol's messages reach Bob, not Alice.
      const c = await connect(ingest.url, { token: carol.token });
      sockets.push(c);
      c.send({ channel: 'stream.chat', type: 'send', data: { streamId: id, text: 'before joining' } });
      expect((await c.next((f) => f.channel === 'error')).type).toBe('forbidden');
      c.send({ channel: 'stream', type: 'join', data: { streamId: id } });
      await a.next(isCount(id, 3));
      expect((await api.call('POST', `/api/v1/users/${carol.id}/block`, { token: alice.token })).status).toBe(
        204,
      );
      c.send({ channel: 'stream.chat', type: 'send', data: { streamId: id, text: 'carol speaking' } });
      await b.next(isChat('carol speaking'));
      b.send({ channel: 'stream.chat', type: 'send', data: { streamId: id, text: 'after carol' } });
      await a.next(isChat('after carol'));
      expect(a.frames.some(isChat('carol speaking'))).toBe(false);

      // Carol's socket is cut without a goodbye: the count drops at once.
      c.ws.terminate();
      await a.next(isCount(id, 2));

      // A stranger cannot end the stream; the owner bans Bob from the chat and deletes a message.
      expect((await other.call('POST', `/api/v1/streams/${id}/end`, { token: bob.token })).status).toBe(403);
      expect((await other.call('POST', `/api/v1/streams/${id}/key`, { token: bob.token })).status).toBe(403);
      const o = await connect(ingest.url, { token: owner.token });
      sockets.push(o);
      o.send({ channel: 'stream.chat', type: 'ban', data: { streamId: id, userId: bob.id } });
      await b.next((f) => f.channel === 'stream.chat' && f.type === 'banned' && dataOf(f).userId === bob.id);
      b.send({ channel: 'stream.chat', type: 'send', data: { streamId: id, text: 'banned words' } });
      expect((await b.next((f) => f.channel === 'error')).type).toBe('forbidden');
      o.send({ channel: 'stream.chat', type: 'delete', data: { streamId: id, messageId: 'some-message' } });
      await a.next((f) => f.channel === 'stream.chat' && f.type === 'deleted');
      a.send({ channel: 'stream.chat', type: 'delete', data: { streamId: id, messageId: 'some-message' } });
      expect((await a.next((f) => f.channel === 'error')).type).toBe('forbidden');

      // The publisher stops: after the grace period the stream ends; the recording's playlist is complete.
      await publisher.stop(); // ffmpeg exits 255 on SIGINT, having closed the RTMP session
      await eventually(async () => {
        stream = await api.call('GET', `/api/v1/streams/${id}`, { token: owner.token });
        return stream.body.state === 'ended';
      }, 20_000);
      expect(stream?.body).toMatchObject({ playbackUrl: null, viewerCount: 0 });
      await eventually(async () =>
        String((await other.call('GET', playlistPath)).body).includes('#EXT-X-ENDLIST'),
      );

      // An ended stream's key publishes nothing.
      const late = publish(`${ingestUrl}/${streamKey}`);
      expect(await late.exited).not.toBe(0);
      expect(late.output()).toContain('Unknown or ended stream key');
    } finally {
      await publisher.stop();
    }
  } finally {
    for (const socket of sockets) socket.ws.terminate();
  }
}
