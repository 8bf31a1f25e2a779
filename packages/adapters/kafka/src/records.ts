import { type EventRecord, FatalError, topicFor } from '@nova/kernel';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

/**
 * Header names of a Nova event on Kafka. They are the outbox column names, so
 * Debezium's Outbox Event Router produces the same record with
 * `table.fields.additional.placement=type:header:type,aggregatetype:header:aggregatetype,timestamp:header:timestamp,traceparent:header:traceparent`
 * (it adds the `id` header itself). `traceparent` (W3C trace context, ADR
 * 014) is present only when the writer was traced. See docs/debezium.md.
 */
export const EVENT_HEADERS = {
  id: 'id',
  type: 'type',
  aggregateType: 'aggregatetype',
  timestamp: 'timestamp',
  traceparent: 'traceparent',
  /**
   * The outbox seq, set by the built-in relay only (Debezium does not): the
   * consumer's position for recognising redeliveries (ADR 039).
   */
  seq: 'nova.seq',
} as const;

/** Extra headers on a dead-lettered record (nova.dlq.<group>). */
export const DEAD_LETTER_HEADERS = {
  reason: 'nova.dlq.reason',
  attempts: 'nova.dlq.attempts',
  group: 'nova.dlq.group',
  topic: 'nova.dlq.original.topic',
  partition: 'nova.dlq.original.partition',
  offset: 'nova.dlq.original.offset',
} as const;

/** An outbox row as the relay reads it (Debezium's outbox columns + seq). */
export interface OutboxRow {
  seq: number;
  id: string;
  aggregatetype: string;
  aggregateid: string;
  type: string;
  /** The payload as PostgreSQL renders the stored JSON: both the record value and the batch-size measure. */
  value: string;
  /** When the producing transaction wrote the row. */
  timestamp: Date;
  /**
   * The same instant rendered the way Debezium renders a timestamptz
   * (io.debezium.time.ZonedTimestamp: ISO 8601 UTC, microseconds, trailing
   * zeros of the fraction dropped), from the database's microseconds so no precision is lost.
   */
  timestampIso: string;
  /** W3C trace context of the writing span; null when it was not traced. */
  traceparent: string | null;
}

export interface ProducedRecord {
  topic: string;
  message: Message & { key: string; value: string; headers: Record<string, string>; timestamp: string };
}

/** The Kafka record the relay publishes for one outbox row. */
export function recordForOutboxRow(row: OutboxRow): ProducedRecord {
  const record: ProducedRecord = {
    topic: topicFor(row.aggregatetype),
    message: {
      key: row.aggregateid,
      value: row.value,
      // Record timestamp = when the event was written (Debezium: table.field.event.timestamp).
      timestamp: String(row.timestamp.getTime()),
      headers: {
        [EVENT_HEADERS.id]: row.id,
        [EVENT_HEADERS.type]: row.type,
        [EVENT_HEADERS.aggregateType]: row.aggregatetype,
        [EVENT_HEADERS.timestamp]: row.timestampIso,
        [EVENT_HEADERS.seq]: String(row.seq),
      },
    },
  };
  if (row.traceparent) record.message.headers[EVENT_HEADERS.traceparent] = row.traceparent;
  return record;
}

let lastSecond = { micros: Number.NaN, text: '' };

/**
 * Debezium's ZonedTimestamp text (java ISO_OFFSET_DATE_TIME: UTC, the
 * microsecond fraction without trailing zeros, none at all on a whole
 * second) for an instant given as whole microseconds since the epoch.
 * The relay reads that integer instead of a formatted timestamp: PostgreSQL
 * skips to_char and timestamptz output, Node skips parsing a date string.
 */
export function debeziumTimestamp(epochMicros: number): string {
  const micros = ((epochMicros % 1_000_000) + 1_000_000) % 1_000_000;
  const second = epochMicros - micros;
  // A relay batch's rows mostly share their second: render its text once.
  if (second !== lastSecond.micros)
    lastSecond = { micros: second, text: new Date(second / 1000).toISOString().slice(0, 19) };
  const whole = lastSecond.text;
  if (micros === 0) return `${whole}Z`;
  return `${whole}.${String(micros).padStart(6, '0').replace(/0+$/, '')}Z`;
}

/** The instant of `epochMicros` as a Date (milliseconds, the fraction below truncated, as pg's own parser does). */
export function dateOfEpochMicros(epochMicros: number): Date {
  const micros = ((epochMicros % 1000) + 1000) % 1000;
  return new Date((epochMicros - micros) / 1000);
}

/** A record that cannot become an event (missing headers, bad JSON): never retried. */
export class MalformedRecordError extends FatalError {
  constructor(
    message: string,
    readonly topic: string,
    readonly offset: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'MalformedRecordError';
  }
}

export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  // A null header value (Debezium places a null column that way) reads as absent.
  if (first === undefined || first === null) return undefined;
  return typeof first === 'string' ? first : first.toString('utf8');
}

/** The event a consumed record carries; throws MalformedRecordError when it carries none. */
export function eventFromRecord(topic: string, message: KafkaMessage): EventRecord {
  const id = headerText(message.headers, EVENT_HEADERS.id);
  const type = headerText(message.headers, EVENT_HEADERS.type);
  const key = message.key?.toString('utf8');
  if (!id || !type || key === undefined) {
    throw new MalformedRecordError(`record lacks the id/type headers or the key`, topic, message.offset);
  }
  let payload: unknown;
  try {
    payload = message.value === null ? null : JSON.parse(message.value.toString('utf8'));
  } catch (error) {
    throw new MalformedRecordError(`record value is not JSON`, topic, message.offset, { cause: error });
  }
  const stamp = headerText(message.headers, EVENT_HEADERS.timestamp);
  const millis = stamp ? Date.parse(stamp) : Number(message.timestamp);
  const timestamp = new Date(Number.isFinite(millis) ? millis : Number(message.timestamp)).toISOString();
  const traceparent = headerText(message.headers, EVENT_HEADERS.traceparent);
  return { id, topic, key, type, payload, timestamp, ...(traceparent ? { traceparent } : {}) };
}

/** The built-in relay's outbox seq of a record (ADR 039); undefined on other producers' records. */
export function outboxSeqOf(message: KafkaMessage): number | undefined {
  const text = headerText(message.headers, EVENT_HEADERS.seq);
  const seq = text === undefined ? Number.NaN : Number(text);
  return Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
}
