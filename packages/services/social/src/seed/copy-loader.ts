import type { Population } from '@nova/contracts/seed';
import { copyLines } from '@nova/kernel';
import type pg from 'pg';

export type Progress = (rows: number) => void;

/** Profiles arrive with their final counters, known from the generated graph (and posts). */
export async function copyProfiles(
  client: pg.Client,
  population: Population,
  postCounts: Uint32Array | undefined,
  progress: Progress,
): Promise<void> {
  const { followers, following } = population.counts();
  function* lines(): Iterable<string> {
    for (const chunk of population.userChunks(10_000)) {
      yield chunk
        .map(
          (u) =>
            `${u.id}\t${u.username}\t${u.createdAt}\t${followers[u.index]}\t${following[u.index]}\t${postCounts?.[u.index] ?? 0}\n`,
        )
        .join('');
      progress(chunk.length);
    }
  }
  await copyLines(
    client,
    'COPY profiles (id, username, created_at, follower_count, following_count, post_count) FROM STDIN',
    lines(),
  );
}

/** Edges get seq = firstSeq, firstSeq + 1, …: the keyset order of list pages. */
export async function copyFollows(
  client: pg.Client,
  population: Population,
  ids: readonly string[],
  firstSeq: bigint,
  progress: Progress,
  freeze: boolean,
): Promise<void> {
  function* lines(): Iterable<string> {
    let seq = Number(firstSeq);
    for (const chunk of population.followChunks(50_000)) {
      let text = '';
      for (let i = 0; i < chunk.length; i++) {
        text += `${ids[chunk.followers[i] as number]}\t${ids[chunk.followees[i] as number]}\t${seq++}\n`;
      }
      yield text;
      progress(chunk.length);
    }
  }
  // FREEZE (table truncated in this transaction) spares the index builds rewriting every page for hint bits.
  const statement = `COPY follows (follower_id, followee_id, seq) FROM STDIN${freeze ? ' WITH (FREEZE)' : ''}`;
  await copyLines(client, statement, lines());
}
