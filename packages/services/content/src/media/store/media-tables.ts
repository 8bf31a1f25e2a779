import type { ColumnType, Kysely } from 'kysely';
import type { ContentTables } from '../../store/tables.js';
import type { Variants } from '../domain/variants.js';

type Nullable<T> = ColumnType<T | null, T | null | undefined, T | null>;
type Moment = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

/** migrations/010-media.sql as Kysely sees it. */
export interface MediaTable {
  id: string;
  owner_id: string;
  kind: 'image' | 'video';
  mime_type: string;
  size_bytes: ColumnType<string | number, number, number>;
  status: ColumnType<
    'processing' | 'ready' | 'failed',
    'processing' | undefined,
    'processing' | 'ready' | 'failed'
  >;
  failure_code: Nullable<string>;
  failure_reason: Nullable<string>;
  width: Nullable<number>;
  height: Nullable<number>;
  duration_ms: Nullable<number>;
  blurhash: Nullable<string>;
  variants: ColumnType<Variants, string | undefined, string>;
  queued_at: Moment;
  lease_until: Moment;
  attempts: ColumnType<number, number | undefined, number>;
  processed_at: Moment;
  attached_at: Moment;
  deleted_at: Moment;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

/** Content's schema with the media pipeline's table (same schema, same database). */
export interface MediaTables extends ContentTables {
  media: MediaTable;
}

/**
 * The content database seen with the media table: the posts side's handle
 * types only its own tables, and the two share one schema.
 */
export const withMedia = (db: Kysely<ContentTables>): Kysely<MediaTables> =>
  db as unknown as Kysely<MediaTables>;
