import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createFsBlobStore, UnprocessableError } from '@nova/kernel';
import { DATABASE_KINDS } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentHandlers } from '../../src/api/content-handlers.js';
import { createContentHandlers } from '../../src/index.js';
import { createMediaAttachments } from '../../src/media/attachments.js';
import { createProcessMedia } from '../../src/media/commands/process-media.js';
import { createUploadMedia } from '../../src/media/commands/upload-media.js';
import { createMediaContext, type MediaContext } from '../../src/media/media-context.js';
import { createMediaUrls } from '../../src/media/media-urls.js';
import { createMediaQueries } from '../../src/media/queries/media-queries.js';
import { mediaRepository } from '../../src/media/store/media-repository.js';
import { collectMedia } from '../../src/media/workers/media-collector.js';
import { type ContentFixture, openContentFixture } from '../support/fixture.js';
import { jpegWithGps } from './fixtures.js';

const HOUR = 3_600_000;

describe.each(DATABASE_KINDS)('media lifecycle on %s', (kind) => {
  let f: ContentFixture;
  let dir: string;
  let media: MediaContext;
  let content: ContentHandlers;
  let upload: ReturnType<typeof createUploadMedia>;
  let jpeg: Buffer;

  beforeAll(async () => {
    f = await openContentFixture(kind);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nova-media-life-'));
    const blobs = createFsBlobStore(path.join(dir, 'blobs'));
    const urls = createMediaUrls(blobs, 'http://nova.test');
    const ctx = { ...f.ctx, media: createMediaAttachments(urls) };
    content = createContentHandlers(ctx);
    media = createMediaContext({ blobs, config: { dataDir: dir } as never }, ctx, urls);
    upload = createUploadMedia(media);
    jpeg = await jpegWithGps(300, 200, 1);
  }, 60_000);
  afterAll(async () => {
    await f?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const uploadAs = async (owner: string) => (await upload(owner, Readable.from([jpeg]))).id;
  const processNext = async () => {
    const row = await mediaRepository.lease(media.database.db, 60_000);
    if (!row) throw new Error('nothing queued');
    return createProcessMedia(media)(row);
  };
  const queue = (id: string) => mediaRepository.queue(media.database.db, id);

  it('records an upload with media.uploaded, and media.ready once processed', async () => {
    const owner = f.social.addUser();
    const id = await uploadAs(owner);
    const uploaded = (await f.events('media.uploaded')).find((e) => e.payload.mediaId === id);
    expect(uploaded).toMatchObject({
      aggregateid: id,
      payload: { ownerId: owner, kind: 'image', mimeType: 'image/jpeg', sizeBytes: jpeg.length },
    });
    expect(await queue(id)).toBe(true);
    expect(await queue(id)).toBe(false);
    expect(await processNext()).toEqual({ status: 'ready' });
    const ready = (await f.events('media.ready')).find((e) => e.payload.mediaId === id);
    expect(ready?.payload).toMatchObject({
      width: 300,
      height: 200,
      durationMs: null,
      variants: ['thumbnail', 'small', 'large'],
    });
    const [view] = await createMediaQueries(media).getMany([id]);
    expect(view?.variants.small).toBe(`http://nova.test/api/v1/media/${id}/variants/small`);
  });

  it('fails an item whose original is not in the blob store at once, not after three leases', async () => {
    // A content process whose blob store is not the one the upload went to (two processes, two data dirs) sees this.
    const id = await uploadAs(f.social.addUser());
    await media.blobs.delete(`media/${id}/original`);
    expect(await queue(id)).toBe(true);
    expect(await processNext()).toMatchObject({ status: 'failed', code: 'original_missing' });
    const [row] = await mediaRepository.byIds(media.database.db, [id]);
    expect(row).toMatchObject({ status: 'failed', failure_code: 'original_missing', lease_until: null });
    expect(await mediaRepository.lease(media.database.db, 60_000)).toBeUndefined();
  });

  it('lets only the uploader attach an item, once, and never a failed one', async () => {
    const alice = f.social.addUser();
    const bob = f.social.addUser();
    const bobs = await uploadAs(bob);
    const stolen = content.posts.create(alice, { text: 'mine now', mediaIds: [bobs] });
    await expect(stolen).rejects.toBeInstanceOf(UnprocessableError);
    await expect(stolen).rejects.toMatchObject({ code: 'media_not_found' });
    const post = await content.posts.create(bob, { text: 'my photo', mediaIds: [bobs] });
    expect(post.media).toEqual([expect.objectContaining({ id: bobs, status: 'processing', variants: {} })]);
    await expect(content.posts.create(bob, { mediaIds: [bobs] })).rejects.toMatchObject({
      code: 'media_attached',
    });
    const broken = await uploadAs(bob);
    await mediaRepository.fail(media.database.db, broken, 'corrupt_image', 'The image is damaged.');
    await expect(content.posts.create(bob, { mediaIds: [broken] })).rejects.toMatchObject({
      code: 'media_failed',
    });
    await expect(content.posts.create(bob, { mediaIds: ['no-such-media'] })).rejects.toMatchObject({
      code: 'media_not_found',
    });
  });

  it('shows a post’s processed media with its variants and blurhash', async () => {
    const owner = f.social.addUser();
    const id = await uploadAs(owner);
    const post = await content.posts.create(owner, { mediaIds: [id] });
    await queue(id);
    await processNext();
    const seen = await content.queries.getPost(post.id, owner);
    expect(seen.media[0]).toMatchObject({ id, status: 'ready', width: 300, height: 200 });
    expect(Object.keys((seen.media[0] as unknown as { variants: object }).variants).sort()).toEqual([
      'large',
      'small',
      'thumbnail',
    ]);
  });

  it('collects uploads no post attached after the grace period, and every item of a deleted account', async () => {
    const owner = f.social.addUser();
    const loose = await uploadAs(owner);
    const kept = await uploadAs(owner);
    await content.posts.create(owner, { mediaIds: [kept] });
    await queue(kept);
    await processNext();
    expect(await media.blobs.head(`media/${loose}/original`)).toBeDefined();
    // Within the grace period nothing of it goes.
    await collectMedia(media, new Date(Date.now() + HOUR));
    expect(await mediaRepository.byIds(media.database.db, [loose])).toHaveLength(1);
    await collectMedia(media, new Date(Date.now() + 25 * HOUR));
    expect(await mediaRepository.byIds(media.database.db, [loose, kept])).toEqual([
      expect.objectContaining({ id: kept }),
    ]);
    expect(await media.blobs.head(`media/${loose}/original`)).toBeUndefined();
    expect(await media.blobs.head(`media/${kept}/small.webp`)).toBeDefined();

    await f.database.transaction((tx) => createMediaAttachments(media.urls).purgeOwner(tx, owner));
    expect(await createMediaQueries(media).getMany([kept], owner)).toEqual([]);
    expect(await collectMedia(media)).toBeGreaterThanOrEqual(1);
    expect(await media.blobs.head(`media/${kept}/small.webp`)).toBeUndefined();
  });
});
