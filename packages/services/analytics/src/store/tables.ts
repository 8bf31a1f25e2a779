import type { ColumnType } from 'kysely';

/** Analytics' PostgreSQL schema as Kysely sees it (migrations/*.sql are the source of truth). */
export interface ClientEventIdsTable {
  id: string;
  received_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface ReconciliationsTable {
  day: ColumnType<string, string, string>;
  kind: string;
  source_count: ColumnType<string, number, number>;
  store_count: ColumnType<string, number, number>;
  checked_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface AnalyticsTables {
  client_event_ids: ClientEventIdsTable;
  reconciliations: ReconciliationsTable;
}
