import { type FSWatcher, watch } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { BlobStore, Logger } from '@nova/kernel';
import { hlsContentType, hlsKey, isHlsFile, PLAYLIST } from '../domain/hls-files.js';

/**
 * Copies what ffmpeg writes into one directory to the blob store, in the
 * order it appears: a segment before the playlist naming it, so a player
 * never reads a playlist whose newest segment is missing. ffmpeg writes
 * each file under a temporary name and renames it when complete
 * (`-hls_flags temp_file`), so a finished name is a finished file.
 */
export class HlsUploader {
  readonly #uploaded = new Set<string>();
  #queue: Promise<void> = Promise.resolve();
  #playlistQueued = false;
  #watcher: FSWatcher | undefined;

  constructor(
    private readonly dir: string,
    private readonly streamId: string,
    private readonly blobs: BlobStore,
    private readonly logger: Logger,
    /** Called after each playlist upload (the first one makes the stream playable). */
    private readonly onPlaylist: () => void = () => undefined,
  ) {}

  start(): void {
    this.#watcher = watch(this.dir, (_event, name) => {
      if (name && isHlsFile(name)) this.#enqueue(name);
    });
    this.#watcher.on('error', (error) => this.logger.warn({ err: error }, 'HLS directory watch failed'));
  }

  /** After ffmpeg exited: whatever the watch missed, segments first, then the final playlist. */
  async finish(): Promise<void> {
    this.#watcher?.close();
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => isHlsFile(n) && n !== PLAYLIST).sort())
      if (!this.#uploaded.has(name)) this.#enqueue(name);
    if (names.includes(PLAYLIST)) {
      this.#playlistQueued = false;
      this.#enqueue(PLAYLIST);
    }
    await this.#queue;
  }

  #enqueue(name: string): void {
    if (name === PLAYLIST) {
      // One pending playlist upload reads the newest playlist when its turn comes.
      if (this.#playlistQueued) return;
      this.#playlistQueued = true;
    } else if (this.#uploaded.has(name)) return;
    else this.#uploaded.add(name);
    this.#queue = this.#queue.then(() => this.#upload(name));
  }

  async #upload(name: string): Promise<void> {
    if (name === PLAYLIST) this.#playlistQueued = false;
    try {
      const bytes = await readFile(path.join(this.dir, name));
      await this.blobs.put(hlsKey(this.streamId, name), Readable.from([bytes]), {
        contentType: hlsContentType(name),
      });
      if (name === PLAYLIST) this.onPlaylist();
    } catch (error) {
      // A segment ffmpeg already deleted, or a store hiccup: the next playlist or the final sweep carries on.
      if (name !== PLAYLIST) this.#uploaded.delete(name);
      this.logger.warn({ err: error, file: name, streamId: this.streamId }, 'HLS upload failed');
    }
  }
}
