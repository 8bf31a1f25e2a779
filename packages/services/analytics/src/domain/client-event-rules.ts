import type { AcceptedClientEventRecord, ClientEventType } from '@nova/contracts';
import { type FieldIssue, isUuid } from '@nova/kernel';
import { type TObject, Type } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';

/** Most events one POST /events may carry (API.md). */
export const MAX_EVENTS_PER_REQUEST = 500;
/** Largest accepted event, as JSON: a real one is ~150 bytes; more is a client bug or abuse. */
export const MAX_EVENT_BYTES = 1024;
const MAX_DWELL_MS = 86_400_000;
const MAX_TARGET_LENGTH = 256;

/** The fields each client event type carries besides id, type and ts (API.md). */
const FIELDS: Record<ClientEventType, readonly string[]> = {
  view: ['postId'],
  impression: ['postId'],
  dwell: ['postId', 'ms'],
  share: ['postId'],
  click: ['target'],
  app_open: [],
};
const COMMON = ['id', 'type', 'ts'];

export const CLIENT_EVENT_TYPES = Object.keys(FIELDS) as ClientEventType[];

/**
 * The common shape of a valid event, one compiled check per type: a batch's
 * events go through it first and only the ones it refuses get the
 * field-by-field check that names each problem. It accepts nothing the
 * field-by-field check would refuse (bounded `ts`, no other fields), and
 * without `target` such an event is far below MAX_EVENT_BYTES, so only a
 * click's size is measured.
 */
const UuidText = Type.String({
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
});
const TsText = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T', maxLength: 64 });
const FIELD_SCHEMAS = {
  postId: UuidText,
  ms: Type.Integer({ minimum: 0, maximum: MAX_DWELL_MS }),
  target: Type.String({ minLength: 1, maxLength: MAX_TARGET_LENGTH }),
};
const wellFormed = Object.fromEntries(
  CLIENT_EVENT_TYPES.map((type) => {
    const schema: TObject = Type.Object(
      {
        id: UuidText,
        type: Type.Literal(type),
        ts: TsText,
        ...Object.fromEntries(
          FIELDS[type].map((field) => [field, FIELD_SCHEMAS[field as keyof typeof FIELD_SCHEMAS]]),
        ),
      },
      { additionalProperties: false },
    );
    return [type, TypeCompiler.Compile(schema)];
  }),
) as Record<ClientEventType, TypeCheck<TObject>>;

function isWellFormed(candidate: unknown): boolean {
  if (typeof candidate !== 'object' || candidate === null) return false;
  const type = (candidate as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(wellFormed, type)) return false;
  if (!wellFormed[type as ClientEventType].Check(candidate)) return false;
  return type !== 'click' || Buffer.byteLength(JSON.stringify(candidate)) <= MAX_EVENT_BYTES;
}

export interface ClockBounds {
  now: number;
  maxAgeMs: number;
  maxAheadMs: number;
}

export interface CheckedBatch {
  /** Valid events, first copy of each id (a repeated id within the batch is a duplicate). */
  events: AcceptedClientEventRecord[];
  /** Events whose id appeared earlier in the same batch. */
  repeated: number;
  /** Every problem of every event, `/events/<index>/<field>`; the batch is refused if any. */
  issues: FieldIssue[];
}

/**
 * Checks a batch event by event and names every problem, so a client can fix
 * all of them at once; the caller stores nothing of a batch with issues.
 */
export function checkClientEvents(raw: readonly unknown[], clock: ClockBounds): CheckedBatch {
  const issues: FieldIssue[] = [];
  const events: AcceptedClientEventRecord[] = [];
  const seen = new Set<string>();
  let repeated = 0;
  raw.forEach((candidate, index) => {
    const at = `/events/${index}`;
    const problems = isWellFormed(candidate)
      ? checkTime((candidate as { ts: string }).ts, clock)
      : checkOne(candidate, clock);
    if (problems.length > 0) {
      for (const [field, message] of problems) issues.push({ field: `${at}${field}`, message });
      return;
    }
    const event = toRecord(candidate as Record<string, unknown>);
    if (seen.has(event.id)) {
      repeated += 1;
      return;
    }
    seen.add(event.id);
    events.push(event);
  });
  return { events, repeated, issues };
}

type Problem = [field: string, message: string];

function checkOne(candidate: unknown, clock: ClockBounds): Problem[] {
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
    return [['', 'must be an object']];
  }
  if (Buffer.byteLength(JSON.stringify(candidate)) > MAX_EVENT_BYTES) {
    return [['', `larger than ${MAX_EVENT_BYTES} bytes`]];
  }
  const event = candidate as Record<string, unknown>;
  const problems: Problem[] = [];
  if (typeof event.id !== 'string' || !isUuid(event.id)) problems.push(['/id', 'must be a UUID']);
  const type = event.type;
  if (typeof type !== 'string' || !Object.hasOwn(FIELDS, type)) {
    problems.push(['/type', `unknown event type; one of ${CLIENT_EVENT_TYPES.join(', ')}`]);
    return problems;
  }
  problems.push(...checkTime(event.ts, clock));
  const fields = FIELDS[type as ClientEventType];
  for (const key of Object.keys(event)) {
    if (!COMMON.includes(key) && !fields.includes(key)) problems.push([`/${key}`, `not a field of ${type}`]);
  }
  if (fields.includes('postId') && (typeof event.postId !== 'string' || !isUuid(event.postId))) {
    problems.push(['/postId', 'must be a post id (UUID)']);
  }
  if (
    fields.includes('ms') &&
    !(Number.isInteger(event.ms) && (event.ms as number) >= 0 && (event.ms as number) <= MAX_DWELL_MS)
  ) {
    problems.push(['/ms', `must be an integer from 0 to ${MAX_DWELL_MS}`]);
  }
  if (
    fields.includes('target') &&
    (typeof event.target !== 'string' || event.target.length === 0 || event.target.length > MAX_TARGET_LENGTH)
  ) {
    problems.push(['/target', `must be a string of 1 to ${MAX_TARGET_LENGTH} characters`]);
  }
  return problems;
}

function checkTime(ts: unknown, { now, maxAgeMs, maxAheadMs }: ClockBounds): Problem[] {
  const at = typeof ts === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(ts) ? Date.parse(ts) : Number.NaN;
  if (Number.isNaN(at)) return [['/ts', 'must be an ISO 8601 time']];
  if (at < now - maxAgeMs) return [['/ts', `more than ${Math.round(maxAgeMs / 3_600_000)} h in the past`]];
  if (at > now + maxAheadMs)
    return [['/ts', `more than ${Math.round(maxAheadMs / 1000)} s ahead of the server clock`]];
  return [];
}

function toRecord(event: Record<string, unknown>): AcceptedClientEventRecord {
  return {
    id: (event.id as string).toLowerCase(),
    type: event.type as ClientEventType,
    postId: typeof event.postId === 'string' ? event.postId.toLowerCase() : null,
    target: typeof event.target === 'string' ? event.target : null,
    ms: typeof event.ms === 'number' ? event.ms : null,
    clientTs: new Date(Date.parse(event.ts as string)).toISOString(),
  };
}
