import { Readable } from 'node:stream';
import { DATABASE_KINDS } from '@nova/kernel/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createViewerRegistry } from '../src/chat/viewer-registry.js';
import { createIngestCommands } from '../src/commands/ingest-commands.js';
import { createStreamCommands } from '../src/commands/stream-commands.js';
import { hlsKey } from '../src/domain/hls-files.js';
import { createStreamQueries } from '../src/queries/stream-queries.js';
import { streamRepository } from '../src/store/stream-repository.js';
import { removeExpiredRecordings } from '../src/workers/stream-sweeper.js';
import { type LiveFixture, openLiveFixture } from './support/live-fixture.js';

const port = () => 1935;

describe.each(DATABASE_KINDS)('live streams on %s', (kind) => {
  let fx: LiveFixture;
  beforeAll(async () => {
    fx = await openLiveFixture(kind);
  });
  afterAll(() => fx?.close());

  const commands = () => createStreamCommands(fx.ctx, port);

  it('creates a stream whose key is stored only as a hash, with the ingest URL', async () => {
    const created = await commands().create('owner-1', { title: '  my stream ' });
    expect(created.ingestUrl).toBe('rtmp://live.example:1935/live');
    expect(created.streamKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const row = await streamRepository.byId(fx.ctx.database.db, created.id);
    expect(row).toMatchObject({ state: 'created', title: 'my stream', owner_id: 'owner-1' });
    expect(row?.key_hash).not.toContain(created.streamKey);
  });

  it('lets exactly one process hold a publish when many race for one key', async () => {
    const { id, streamKey } = await commands().create('owner-2', {});
    const nodes = Array.from({ length: 6 }, () => createIngestCommands(fx.node()));
    const claims = await Promise.all(nodes.map((n) => n.claim(streamKey)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(claims.find(Boolean)?.id).toBe(id);
    // Unknown and malformed keys claim nothing.
    expect(await nodes[0]?.claim('x'.repeat(43))).toBeUndefined();
    expect(await nodes[0]?.claim('../../etc')).toBeUndefined();
  });

  it('goes live once however many video packets race, with one stream.started', async () => {
    const node = createIngestCommands(fx.ctx);
    const { id, streamKey } = await commands().create('owner-3', {});
    await node.claim(streamKey);
    const marked = await Promise.all(Array.from({ length: 5 }, () => node.markLive(id)));
    expect(marked.filter(Boolean)).toHaveLength(1);
    const started = (await fx.events('stream.started')).filter((e) => e.payload.streamId === id);
    expect(started).toHaveLength(1);
    expect(started[0]?.payload).toMatchObject({ ownerId: 'owner-3' });
  });

  it('ends by its owner only, once, and the ended key publishes nothing', async () => {
    const { id, streamKey } = await commands().create('owner-4', {});
    await expect(commands().end(id, 'stranger')).rejects.toMatchObject({
      status: 403,
      code: 'not_stream_owner',
    });
    await expect(commands().end('no-such-stream', 'owner-4')).rejects.toMatchObject({ status: 404 });
    await Promise.all([commands().end(id, 'owner-4'), commands().end(id, 'owner-4')]);
    const ended = (await fx.events('stream.ended')).filter((e) => e.payload.streamId === id);
    expect(ended).toHaveLength(1);
    expect(ended[0]?.payload).toMatchObject({ reason: 'ended_by_owner', startedAt: null });
    expect(await createIngestCommands(fx.ctx).claim(streamKey)).toBeUndefined();
    await expect(commands().rotateKey(id, 'owner-4')).rejects.toMatchObject({ code: 'stream_ended' });
  });

  it('rotates the key: the old one stops working, the new one publishes', async () => {
    const { id, streamKey } = await commands().create('owner-5', {});
    await expect(commands().rotateKey(id, 'stranger')).rejects.toMatchObject({ status: 403 });
    const rotated = await commands().rotateKey(id, 'owner-5');
    expect(rotated.streamKey).not.toBe(streamKey);
    const node = createIngestCommands(fx.ctx);
    expect(await node.claim(streamKey)).toBeUndefined();
    expect((await node.claim(rotated.streamKey))?.id).toBe(id);
  });

  it('ends a stream whose publisher left, and one whose process stopped renewing its lease', async () => {
    const left = await commands().create('owner-6', {});
    const crashed = await commands().create('owner-6', {});
    const holder = createIngestCommands(fx.ctx);
    const other = createIngestCommands(fx.node());
    for (const s of [left, crashed]) {
      const row = await holder.claim(s.streamKey);
      await holder.markLive(row?.id as string);
    }
    // While the lease runs, nobody else may take the publish; the holder's renewal keeps both.
    expect(await other.claim(crashed.streamKey)).toBeUndefined();
    expect(await holder.renew([left.id, crashed.id])).toEqual(new Set([left.id, crashed.id]));
    await holder.release(left.id);
    await sql`UPDATE ${sql.table(`${fx.ctx.database.schema}.streams`)} SET ingest_lease_until = now() - interval '1 minute' WHERE id = ${crashed.id}`.execute(
      fx.ctx.database.db,
    );
    const ended = await other.endAbandoned();
    expect(ended.sort()).toEqual([left.id, crashed.id].sort());
    const events = (await fx.events('stream.ended')).filter((e) =>
      [left.id, crashed.id].includes(e.payload.streamId as string),
    );
    expect(events.map((e) => e.payload.reason)).toEqual(['publisher_stopped', 'publisher_stopped']);
    // An ended stream's lease cannot be renewed: the holder learns it must cut the publisher.
    expect(await holder.renew([crashed.id])).toEqual(new Set());
  });

  it('lists live streams of followed accounts first, pages them, and hides blocked accounts', async () => {
    const fresh = await openLiveFixture(kind);
    try {
      const viewers = createViewerRegistry(fresh.ctx);
      const queries = createStreamQueries(fresh.ctx, viewers, port);
      const streams = createStreamCommands(fresh.ctx, port);
      const ingest = createIngestCommands(fresh.ctx);
      const ids: Record<string, string> = {};
      for (const owner of ['a', 'b', 'c', 'd']) {
        const created = await streams.create(owner, {});
        await ingest.claim(created.streamKey);
        await ingest.markLive(created.id);
        ids[owner] = created.id;
        await new Promise((r) => setTimeout(r, 5)); // distinct start times
      }
      fresh.social.follow('viewer', 'b');
      fresh.social.block('d', 'viewer');
      const first = await queries.live('viewer', 2);
      expect(first.items.map((s) => s.id)).toEqual([ids.b, ids.c]);
      expect(first.items[0]).toMatchObject({
        state: 'live',
        playbackUrl: `https://live.example/api/v1/streams/${ids.b}/hls/index.m3u8`,
      });
      const second = await queries.live('viewer', 2, first.nextCursor);
      expect(second.items.map((s) => s.id)).toEqual([ids.a]);
      expect(second.nextCursor).toBeNull();
      await expect(queries.get(ids.d as string, 'viewer')).rejects.toMatchObject({ status: 404 });
      await expect(queries.live('viewer', 2, 'not-a-cursor')).rejects.toMatchObject({ status: 400 });
    } finally {
      await fresh.close();
    }
  });

  it('removes the recording of an ended stream after the retention, once', async () => {
    const { id } = await commands().create('owner-7', {});
    await fx.ctx.blobs.put(hlsKey(id, 'index.m3u8'), Readable.from([Buffer.from('#EXTM3U\n')]), {
      contentType: 'application/vnd.apple.mpegurl',
    });
    await commands().end(id, 'owner-7');
    expect(await removeExpiredRecordings(fx.ctx)).toBeGreaterThanOrEqual(1);
    expect(await fx.ctx.blobs.head(hlsKey(id, 'index.m3u8'))).toBeUndefined();
    expect((await streamRepository.byId(fx.ctx.database.db, id))?.recording_removed_at).not.toBeNull();
    expect(await removeExpiredRecordings(fx.ctx)).toBe(0);
  });
});
