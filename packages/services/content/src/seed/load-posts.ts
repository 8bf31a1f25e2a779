import type { Population, PostPopulation, SeedPost } from '@nova/contracts/seed';
import { ConflictError, connectRaw, copyLines, copyText, type Database } from '@nova/kernel';
import { sql } from 'kysely';
import { ensurePostPartitions } from '../store/post-partitions.js';
import type { ContentTables } from '../store/tables.js';
import { tablesOf } from '../store/tables-of.js';

export interface LoadPostsOptions {
  /** PostgreSQL only: a URL for a raw connection, enabling COPY. Without it, batched INSERTs. */
  postgresUrl?: string;
  onProgress?(done: number, total: number): void;
}

export interface LoadPostsResult {
  posts: number;
  likes: number;
  comments: number;
  method: 'copy' | 'insert';
  ms: number;
}

const CHUNK = 5_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const LIKE_DELAY_MS = 60_000;

/**
 * Bulk-loads generated posts with their tags, likes and comments, offline
 * (no events: consumers would replay millions of them). Counters come from
 * the generator, which yields exactly likeCount likers and commentCount
 * comments per post. The monthly partitions of the whole range are created
 * first, so the posts land in them and not in the default partition (a
 * partition cannot be added later for a range the default holds rows of).
 * Refuses a database that already holds the first post.
 */
export async function loadPosts(
  database: Database<ContentTables>,
  population: Population,
  posts: PostPopulation,
  options: LoadPostsOptions = {},
): Promise<LoadPostsResult> {
  const started = performance.now();
  if (posts.count === 0) return { posts: 0, likes: 0, comments: 0, method: 'insert', ms: 0 };
  const first = posts.post(0);
  const existing = await database.db
    .selectFrom('posts')
    .select('id')
    .where('id', '=', first.id)
    .where('created_at', '=', new Date(first.createdAtMs))
    .executeTakeFirst();
  if (existing) throw new ConflictError('already_seeded', 'These posts are already loaded.');
  const startMonth = new Date(first.createdAtMs);
  const months =
    (new Date(posts.options.endMs).getUTCFullYear() - startMonth.getUTCFullYear()) * 12 +
    new Date(posts.options.endMs).getUTCMonth() -
    startMonth.getUTCMonth();
  await ensurePostPartitions(database.db, startMonth, months + 3);

  const ids = Array.from({ length: population.options.users }, (_, i) => population.userId(i));
  const total = posts.count + posts.likeTotal + posts.commentTotal;
  let done = 0;
  const progress = (rows: number) => {
    done += rows;
    options.onProgress?.(done, total);
  };
  const rows = { ids, posts, progress };
  const method = database.dialect === 'postgres' && options.postgresUrl ? 'copy' : 'insert';
  if (method === 'copy') await loadWithCopy(database.schema, options.postgresUrl as string, rows);
  else await loadWithInserts(database, rows);
  return {
    posts: posts.count,
    likes: posts.likeTotal,
    comments: posts.commentTotal,
    method,
    ms: Math.round(performance.now() - started),
  };
}

interface Rows {
  ids: string[];
  posts: PostPopulation;
  progress: (rows: number) => void;
}

interface CommentRow {
  id: string;
  postId: string;
  authorId: string;
  parentId: string | null;
  text: string;
  replies: number;
  createdAt: string;
}

/** The comments of one post as rows, reply counts of top-level comments filled in. */
function commentRows(rows: Rows, post: SeedPost): CommentRow[] {
  const comments = rows.posts.comments(post.index);
  const replies = new Map<number, number>();
  for (const c of comments)
    if (c.parentNumber !== null) replies.set(c.parentNumber, (replies.get(c.parentNumber) ?? 0) + 1);
  return comments.map((c, n) => ({
    id: c.id,
    postId: post.id,
    authorId: rows.ids[c.authorIndex] as string,
    parentId: c.parentNumber === null ? null : (comments[c.parentNumber]?.id ?? null),
    text: c.text,
    replies: replies.get(n) ?? 0,
    createdAt: iso(c.createdAtMs),
  }));
}

async function loadWithCopy(schema: string, postgresUrl: string, rows: Rows): Promise<void> {
  const client = await connectRaw(postgresUrl, schema);
  const { ids, posts, progress } = rows;
  try {
    await client.query('BEGIN');
    function* postLines(): Iterable<string> {
      for (const chunk of posts.postChunks(CHUNK)) {
        let text = '';
        for (const p of chunk)
          text += `${p.id}\t${ids[p.authorIndex]}\t${copyText(p.text)}\t${p.visibility}\t{${p.hashtags.join(',')}}\t${p.likeCount}\t${p.commentCount}\t${iso(p.createdAtMs)}\n`;
        yield text;
        progress(chunk.length);
      }
    }
    await copyLines(
      client,
      'COPY posts (id, author_id, text, visibility, hashtags, like_count, comment_count, created_at) FROM STDIN',
      postLines(),
    );
    function* tagLines(): Iterable<string> {
      for (const chunk of posts.postChunks(CHUNK)) {
        let text = '';
        for (const p of chunk)
          for (const tag of p.hashtags)
            text += `${tag}\t${p.id}\t${ids[p.authorIndex]}\t${iso(p.createdAtMs)}\n`;
        yield text;
      }
    }
    await copyLines(
      client,
      'COPY post_hashtags (tag, post_id, author_id, created_at) FROM STDIN',
      tagLines(),
    );
    function* likeLines(): Iterable<string> {
      for (const chunk of posts.postChunks(CHUNK)) {
        let text = '';
        let count = 0;
        for (const p of chunk) {
          const at = iso(p.createdAtMs + LIKE_DELAY_MS);
          for (const u of posts.likers(p.index)) text += `${p.id}\t${ids[u]}\t${at}\n`;
          count += p.likeCount;
        }
        yield text;
        progress(count);
      }
    }
    await copyLines(client, 'COPY likes (post_id, user_id, created_at) FROM STDIN', likeLines());
    function* commentLines(): Iterable<string> {
      for (const chunk of posts.postChunks(CHUNK)) {
        let text = '';
        let count = 0;
        for (const p of chunk) {
          if (p.commentCount === 0) continue;
          for (const c of commentRows(rows, p))
            text += `${c.id}\t${c.postId}\t${c.authorId}\t${c.parentId ?? '\\N'}\t${copyText(c.text)}\t${c.replies}\t${c.createdAt}\n`;
          count += p.commentCount;
        }
        yield text;
        progress(count);
      }
    }
    // Replies come after their parent within a post, and the foreign key is checked per row.
    await copyLines(
      client,
      'COPY comments (id, post_id, author_id, parent_id, text, reply_count, created_at) FROM STDIN',
      commentLines(),
    );
    await client.query('COMMIT');
    for (const table of ['posts', 'post_hashtags', 'likes', 'comments'])
      await client.query(`ANALYZE ${table}`);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

async function loadWithInserts(database: Database<ContentTables>, rows: Rows): Promise<void> {
  const { ids, posts, progress } = rows;
  await database.transaction(async (tx) => {
    const t = tablesOf(tx);
    for (const chunk of posts.postChunks(CHUNK)) {
      await sql`
        INSERT INTO ${t.posts} (id, author_id, text, visibility, hashtags, like_count, comment_count, created_at)
        SELECT id, author, text, visibility, string_to_array(tags, ',')::text[], likes, comments, at
          FROM unnest(${chunk.map((p) => p.id)}::text[], ${chunk.map((p) => ids[p.authorIndex] as string)}::text[],
                      ${chunk.map((p) => p.text)}::text[], ${chunk.map((p) => p.visibility)}::text[],
                      ${chunk.map((p) => p.hashtags.join(','))}::text[], ${chunk.map((p) => p.likeCount)}::int[],
                      ${chunk.map((p) => p.commentCount)}::int[], ${chunk.map((p) => iso(p.createdAtMs))}::timestamptz[])
            AS r (id, author, text, visibility, tags, likes, comments, at)`.execute(tx);
      const tagged = chunk.flatMap((p) => p.hashtags.map((tag) => ({ tag, p })));
      if (tagged.length > 0)
        await tx
          .insertInto('post_hashtags')
          .values(
            tagged.map(({ tag, p }) => ({
              tag,
              post_id: p.id,
              author_id: ids[p.authorIndex] as string,
              created_at: iso(p.createdAtMs),
            })),
          )
          .execute();
      const likes = chunk.flatMap((p) =>
        [...posts.likers(p.index)].map((u) => ({
          post_id: p.id,
          user_id: ids[u] as string,
          created_at: iso(p.createdAtMs + LIKE_DELAY_MS),
        })),
      );
      for (let i = 0; i < likes.length; i += CHUNK)
        await tx
          .insertInto('likes')
          .values(likes.slice(i, i + CHUNK))
          .execute();
      const comments = chunk.flatMap((p) => (p.commentCount > 0 ? commentRows(rows, p) : []));
      for (let i = 0; i < comments.length; i += CHUNK)
        await tx
          .insertInto('comments')
          .values(
            comments.slice(i, i + CHUNK).map((c) => ({
              id: c.id,
              post_id: c.postId,
              author_id: c.authorId,
              parent_id: c.parentId,
              text: c.text,
              reply_count: c.replies,
              created_at: c.createdAt,
            })),
          )
          .execute();
      progress(chunk.length + likes.length + comments.length);
    }
  });
}
