import type { Static, TSchema } from '@sinclair/typebox';
import type { Database } from '../db/database.js';
import { FatalError } from '../errors/errors.js';
import type { RetryPolicy } from '../workers/retry.js';
import type { BackfillSpec } from './backfill.js';
import type {
  BatchConsumerSpec,
  BatchOptions,
  ConsumeContext,
  ConsumerSpec,
  EventConsumerSpec,
  EventRecord,
} from './event-log.js';

/** Event types and their payload schemas. */
export type EventCatalog = Readonly<Record<string, TSchema>>;

/** A topic and every event type it carries (declared in @nova/contracts). */
export interface TopicContract<Events extends EventCatalog = EventCatalog> {
  readonly topic: string;
  readonly events: Events;
  /** Only consumer groups of the owning service (nova.<owner>.…) may subscribe. */
  readonly internal?: boolean;
}

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void
  ? I
  : never;

/** Every event type of the subscribed topics, with its schema. */
export type CatalogOf<Topics extends readonly TopicContract[]> = UnionToIntersection<
  Topics[number]['events']
>;

/** An event whose payload has been checked against its contract. */
export type TypedEvent<Type extends string, Payload> = EventRecord<Payload> & { type: Type };

export type TypedEventHandler<Type extends string, S extends TSchema, DB> = (
  event: TypedEvent<Type, Static<S>>,
  ctx: ConsumeContext<DB>,
) => Promise<void>;

export type TypedHandlers<Catalog, DB> = {
  [Type in keyof Catalog & string]?: Catalog[Type] extends TSchema
    ? TypedEventHandler<Type, Catalog[Type], DB>
    : never;
};

export interface TypedConsumerSpec<DB, Topics extends readonly TopicContract[]> {
  group: string;
  topics: Topics;
  database: Database<DB>;
  /** One handler per event type the consumer acts on. */
  handlers: TypedHandlers<CatalogOf<Topics>, DB>;
  /**
   * The subscribed topics' other event types, named so that a type added to
   * a topic later makes start-up fail until the consumer decides about it.
   */
  ignore?: ReadonlyArray<keyof CatalogOf<Topics> & string>;
  retry?: Partial<RetryPolicy>;
  /** Per-event transactions, this many in parallel (distinct keys). Exclusive with `batch`. */
  concurrency?: number;
  /** Batch mode: the handlers of up to maxEvents events run in one transaction, in log order. */
  batch?: BatchOptions;
  /** Snapshot to build the read model from on a first start (ADR 018); see `defineBackfill`. */
  backfill?: BackfillSpec<DB>;
}

/** A consumer definition that can never run: thrown while the module is composed, so start-up fails. */
export class ConsumerDefinitionError extends Error {
  constructor(group: string, problem: string) {
    super(`consumer ${group}: ${problem}`);
    this.name = 'ConsumerDefinitionError';
  }
}

/**
 * Builds a ConsumerSpec from per-type handlers. Checked here, once:
 * every handler's type is carried by a subscribed topic, and every type the
 * topics carry has a handler or is listed in `ignore`. At run time the
 * runtime validates each payload once against its contract before the
 * handler sees it, so handlers get typed payloads and validate nothing; an
 * event of a type outside the topics' catalog (a producer on a newer contract
 * than this consumer) is a fatal error and goes to the dead letters.
 */
export function typedConsumer<DB, const Topics extends readonly TopicContract[]>(
  spec: TypedConsumerSpec<DB, Topics> & { batch: BatchOptions },
): BatchConsumerSpec<DB>;
export function typedConsumer<DB, const Topics extends readonly TopicContract[]>(
  spec: TypedConsumerSpec<DB, Topics> & { batch?: undefined },
): EventConsumerSpec<DB>;
export function typedConsumer<DB, const Topics extends readonly TopicContract[]>(
  spec: TypedConsumerSpec<DB, Topics>,
): ConsumerSpec<DB> {
  const { group } = spec;
  if (spec.topics.length === 0) throw new ConsumerDefinitionError(group, 'subscribes to no topic');
  const carried = new Map<string, string>();
  for (const { topic, internal } of spec.topics) {
    const owner = topic.split('.')[1];
    // Groups are "<service>.<purpose>": an internal topic is read by its own service only.
    if (internal && !group.startsWith(`${owner}.`))
      throw new ConsumerDefinitionError(group, `may not read ${topic}: it is internal to ${owner}`);
  }
  for (const { topic, events } of spec.topics) {
    for (const type of Object.keys(events)) carried.set(type, topic);
  }
  const handlers = new Map<string, (event: EventRecord, ctx: ConsumeContext<DB>) => Promise<void>>();
  for (const [type, handler] of Object.entries(spec.handlers)) {
    if (typeof handler !== 'function') continue;
    if (!carried.has(type))
      throw new ConsumerDefinitionError(
        group,
        `has a handler for "${type}", which none of its topics (${spec.topics.map((t) => t.topic).join(', ')}) carries`,
      );
    handlers.set(type, handler as (event: EventRecord, ctx: ConsumeContext<DB>) => Promise<void>);
  }
  const ignored = new Set<string>(spec.ignore ?? []);
  for (const type of ignored) {
    if (!carried.has(type))
      throw new ConsumerDefinitionError(group, `ignores "${type}", which none of its topics carries`);
    if (handlers.has(type)) throw new ConsumerDefinitionError(group, `both handles and ignores "${type}"`);
  }
  const missing = [...carried.keys()].filter((type) => !handlers.has(type) && !ignored.has(type));
  if (missing.length > 0)
    throw new ConsumerDefinitionError(
      group,
      `has no handler for ${missing.map((t) => `"${t}" (${carried.get(t)})`).join(', ')}; handle or ignore each`,
    );
  if (handlers.size === 0) throw new ConsumerDefinitionError(group, 'handles no event type');
  if (spec.batch && spec.concurrency !== undefined)
    throw new ConsumerDefinitionError(
      group,
      'a batch consumer runs batch.inFlight transactions at once; drop `concurrency`',
    );

  const dispatch = (event: EventRecord, ctx: ConsumeContext<DB>): Promise<void> => {
    const handler = handlers.get(event.type);
    // The runtime skips ignored types before a transaction; anything else here is unknown to this consumer.
    if (!handler)
      throw new FatalError(`event type "${event.type}" is not carried by the topics ${group} subscribes to`);
    return handler(event, ctx);
  };
  const base = {
    group,
    topics: spec.topics.map((t) => t.topic),
    database: spec.database,
    ignores: (type: string) => ignored.has(type),
    ...(spec.retry ? { retry: spec.retry } : {}),
    ...(spec.backfill ? { backfill: spec.backfill } : {}),
  };
  if (spec.batch) {
    return {
      ...base,
      batch: spec.batch,
      async handleBatch(events, ctx) {
        for (const event of events) await dispatch(event, ctx);
      },
    };
  }
  return { ...base, ...(spec.concurrency ? { concurrency: spec.concurrency } : {}), handle: dispatch };
}
