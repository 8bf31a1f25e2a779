import {
  type BatchHooks,
  type ConsumerMetrics,
  ConsumerRuntime,
  type ConsumerSpec,
  consumerMetrics,
  counter,
  DeliveryAbandonedError,
  deadLetterTopicFor,
  type EventRecord,
  type EventValidator,
  KeyedLanes,
  keyPositions,
  type Logger,
  lanesFor,
  sleep,
  splitByKey,
  tableDeadLetterSink,
  type Worker,
  type WorkerHealth,
  worstHealth,
} from '@nova/kernel';
import type { Admin, Batch, Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import {
  DEAD_LETTER_HEADERS,
  EVENT_HEADERS,
  eventFromRecord,
  headerText,
  MalformedRecordError,
  outboxSeqOf,
} from './records.js';
import type { TopicManager } from './topics.js';

/** Crashes without rejoining the group after which the member counts as down. */
const CRASH_STREAK = 3;
/** Batch mode: partitions whose batches run at once, and the fetch size the broker waits for. */
const BATCH_PARTITIONS = 8;
const BATCH_MIN_BYTES = 64 * 1024;

/** Where a consumed record came from; the dead-letter headers carry it. */
export interface RecordOrigin {
  topic: string;
  partition: number;
  offset: string;
}

export interface KafkaConsumerOptions {
  /**
   * Most records fetched and unfinished at once (the runtime's keyed lanes'
   * bound); fetching pauses at the bound. Default: the spec's concurrency.
   */
  maxInFlight?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  rebalanceTimeoutMs?: number;
  /** Broker-side wait for a fetch to fill (default 100 ms: events are latency-sensitive). */
  maxWaitTimeMs?: number;
  /** Lag refresh period (default 10 s). */
  lagIntervalMs?: number;
  /**
   * How batch consumers recognise a redelivery: 'position' (default, ADR 039:
   * by the built-in relay's outbox seq; records without one fall back to
   * event ids) or 'event-id' (ADR 012: a processed_events row per event), kept
   * to measure one against the other.
   */
  batchDedupe?: 'position' | 'event-id';
}

export interface KafkaConsumerDeps {
  kafka: Kafka;
  admin(): Promise<Admin>;
  producer(): Promise<Producer>;
  topics: TopicManager;
  logger: Logger;
  metrics: Registry;
  validate: EventValidator;
}

/**
 * A Kafka consumer-group member feeding the kernel consumer runtime.
 *
 * Offsets are committed only after the records' transactions committed
 * (autoCommit off, eachBatch without auto-resolve, an explicit commit of the
 * contiguous finished prefix of each batch): a crash anywhere redelivers, and
 * the processed-event record turns the redelivery into a no-op. Partitions
 * are processed concurrently; the runtime's keyed lanes run distinct keys in
 * parallel and one key's events in order, and bound the records in flight.
 * While the bound is reached the consumer pause()s fetching; it resume()s at
 * half the bound.
 */
export class KafkaConsumerWorker<DB = unknown> implements Worker {
  readonly name: string;
  readonly #spec: ConsumerSpec<DB>;
  readonly #deps: KafkaConsumerDeps;
  readonly #options: Required<Omit<KafkaConsumerOptions, 'maxInFlight' | 'batchDedupe'>>;
  readonly #byPosition: boolean;
  readonly #log: Logger;
  readonly #lanes: KeyedLanes;
  readonly #consumerMetrics: ConsumerMetrics;
  readonly #metrics: {
    pauses: ReturnType<typeof counter>;
    commits: ReturnType<typeof counter>;
  };
  /** Origin of the record whose delivery is running, by event id (one id runs in one lane at a time). */
  readonly #origins = new Map<string, RecordOrigin>();
  #runtime: ConsumerRuntime<DB>;
  #abort = new AbortController();
  #consumer: Consumer | undefined;
  #maxInFlightSeen = 0;
  /** Records of batch-mode chunks being delivered (all partitions). */
  #batchInFlight = 0;
  #paused = false;
  #pauses = 0;
  #stopping = false;
  #crashed: string | undefined;
  #crashes = 0;
  #restarting = true;
  #lagTimer: NodeJS.Timeout | undefined;
  #lagTotal = 0;
  #assignment: Record<string, number[]> = {};

  constructor(spec: ConsumerSpec<DB>, deps: KafkaConsumerDeps, options: KafkaConsumerOptions = {}) {
    this.#spec = spec;
    this.#deps = deps;
    this.name = `kafka-consumer:${spec.group}`;
    this.#log = deps.logger.child({ worker: this.name });
    this.#options = {
      sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 3_000,
      rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 60_000,
      maxWaitTimeMs: options.maxWaitTimeMs ?? 100,
      lagIntervalMs: options.lagIntervalMs ?? 10_000,
    };
    this.#byPosition = options.batchDedupe !== 'event-id';
    this.#consumerMetrics = consumerMetrics(deps.metrics);
    this.#runtime = this.#createRuntime();
    this.#lanes = new KeyedLanes(options.maxInFlight ?? this.#runtime.concurrency);
    this.#metrics = {
      pauses: counter(deps.metrics, {
        name: 'nova_kafka_consumer_pauses_total',
        help: 'Times fetching paused because the in-flight bound was reached (backpressure)',
        labelNames: ['group'],
      }),
      commits: counter(deps.metrics, {
        name: 'nova_kafka_consumer_offset_commits_total',
        help: 'Offset commits, each after the records’ transactions committed',
        labelNames: ['group'],
      }),
    };
  }

  /** Highest number of records in flight at once so far (tests check the bound). */
  get maxInFlightSeen(): number {
    return this.#maxInFlightSeen;
  }

  get maxInFlight(): number {
    return this.#lanes.concurrency;
  }

  /** The partitions this member was given at its last group join, by topic. */
  get assignment(): Readonly<Record<string, readonly number[]>> {
    return this.#assignment;
  }

  /** Times fetching was paused for backpressure. */
  get pauses(): number {
    return this.#pauses;
  }

  async start(): Promise<void> {
    if (this.#consumer) return;
    this.#stopping = false;
    if (this.#abort.signal.aborted) {
      this.#abort = new AbortController();
      this.#runtime = this.#createRuntime();
    }
    const { group, topics } = this.#spec;
    await this.#deps.topics.ensure([...topics, deadLetterTopicFor(group)]);
    const consumer = this.#deps.kafka.consumer({
      groupId: group,
      sessionTimeout: this.#options.sessionTimeoutMs,
      heartbeatInterval: this.#options.heartbeatIntervalMs,
      rebalanceTimeout: this.#options.rebalanceTimeoutMs,
      // A batch consumer lets the broker gather up to its batch window (minBytes: fill or wait).
      maxWaitTimeInMs: this.#runtime.batch ? this.#runtime.batch.maxWaitMs : this.#options.maxWaitTimeMs,
      ...(this.#runtime.batch ? { minBytes: BATCH_MIN_BYTES } : {}),
      allowAutoTopicCreation: false,
      // kafkajs restarts the member after a crash (e.g. the broker gone for
      // longer than its retries); offsets are committed, so it resumes where it stood.
      retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000, restartOnFailure: async () => true },
    });
    consumer.on(consumer.events.CRASH, (event) => {
      this.#crashed = event.payload.error.message;
      this.#crashes += 1;
      this.#restarting = event.payload.restart;
      this.#log.warn({ err: event.payload.error, restart: event.payload.restart }, 'consumer crashed');
    });
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      this.#crashed = undefined;
      this.#crashes = 0;
      this.#assignment = event.payload.memberAssignment;
      this.#log.debug({ assignment: event.payload.memberAssignment }, 'joined consumer group');
    });
    this.#consumer = consumer;
    try {
      await consumer.connect();
      // A new group reads from the beginning: events published before its first start still reach it.
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        // Batch mode: each partition's batches in their own transactions, partitions side by side.
        partitionsConsumedConcurrently: this.#runtime.batch ? BATCH_PARTITIONS : this.#runtime.concurrency,
        eachBatch: (payload) => this.#eachBatch(payload),
      });
    } catch (error) {
      this.#consumer = undefined;
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
    this.#scheduleLag();
  }

  async stop(deadline: number): Promise<void> {
    const consumer = this.#consumer;
    if (!consumer) return;
    this.#stopping = true;
    if (this.#lagTimer) clearTimeout(this.#lagTimer);
    this.#lagTimer = undefined;
    // In-flight records finish until shortly before the deadline; then their
    // retries are abandoned uncommitted (redelivered to the partition's next owner).
    const abandon = setTimeout(() => this.#abort.abort(), Math.max(0, deadline - Date.now() - 500));
    this.#resume();
    try {
      // kafkajs' disconnect stops fetching, waits for the running eachBatch
      // calls (which commit what finished), leaves the group and closes.
      await withDeadline(consumer.disconnect(), deadline);
    } finally {
      clearTimeout(abandon);
      this.#abort.abort();
      this.#consumer = undefined;
    }
  }

  health(): WorkerHealth {
    const detail = {
      inFlight: this.#lanes.inFlight + this.#batchInFlight,
      paused: this.#paused,
      lag: this.#lagTotal,
      ...(this.#crashed ? { lastCrash: this.#crashed } : {}),
    };
    if (!this.#consumer) return { status: 'down', reason: 'not running', detail };
    // kafkajs restarts a crashed member; one that keeps crashing (or will not restart) consumes nothing.
    if (this.#crashed && (this.#crashes >= CRASH_STREAK || !this.#restarting))
      return { status: 'down', reason: `consumer crashed ${this.#crashes} times: ${this.#crashed}`, detail };
    const own: WorkerHealth = this.#crashed
      ? { status: 'degraded', reason: `consumer crashed, restarting: ${this.#crashed}`, detail }
      : { status: 'ok', detail };
    return worstHealth(own, this.#runtime.failures.health());
  }

  /** Refreshes the lag gauge (log end offset − committed offset, summed per topic); also runs periodically. */
  async refreshLag(): Promise<number> {
    const admin = await this.#deps.admin();
    const { group, topics } = this.#spec;
    const committed = await admin.fetchOffsets({ groupId: group, topics });
    let total = 0;
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const byPartition = new Map(
        committed.find((t) => t.topic === topic)?.partitions.map((p) => [p.partition, Number(p.offset)]) ??
          [],
      );
      let topicLag = 0;
      for (const end of ends) {
        const done = byPartition.get(end.partition) ?? -1;
        // Nothing committed yet (-1): the group starts at the earliest retained offset.
        topicLag += Math.max(0, Number(end.high) - (done >= 0 ? done : Number(end.low)));
      }
      this.#consumerMetrics.lag.set({ group, topic }, topicLag);
      total += topicLag;
    }
    this.#lagTotal = total;
    return total;
  }

  #createRuntime(): ConsumerRuntime<DB> {
    const tableSink = tableDeadLetterSink(this.#spec.database);
    const group = this.#spec.group;
    return new ConsumerRuntime<DB>({
      spec: this.#spec,
      validate: this.#deps.validate,
      metrics: consumerMetrics(this.#deps.metrics),
      logger: this.#deps.logger,
      signal: this.#abort.signal,
      // The topic first, then the table record that marks the event done: a
      // failure in between redelivers and may repeat the DLQ record, never lose it.
      deadLetters: async (letter) => {
        const origin = this.#origins.get(letter.event.id) ?? {
          topic: letter.event.topic,
          partition: -1,
          offset: '-1',
        };
        await publishDeadLetter(await this.#deps.producer(), group, {
          key: letter.event.key,
          value: JSON.stringify(letter.event.payload),
          headers: eventHeaders(letter.event),
          reason: letter.reason,
          attempts: letter.attempts,
          origin,
        });
        await tableSink(letter);
      },
    });
  }

  #scheduleLag(): void {
    this.#lagTimer = setTimeout(async () => {
      try {
        await this.refreshLag();
      } catch (error) {
        this.#log.debug({ err: error }, 'lag refresh failed');
      }
      if (!this.#stopping && this.#consumer) this.#scheduleLag();
    }, this.#options.lagIntervalMs);
    this.#lagTimer.unref();
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    if (this.#runtime.batch) return this.#eachBatchBatched(payload, this.#runtime.batch);
    const { batch, heartbeat, isRunning, isStale } = payload;
    const done: boolean[] = new Array(batch.messages.length).fill(false);
    const tasks: Promise<void>[] = [];
    let failure: unknown;
    const keepAlive = heartbeats(heartbeat, this.#options.heartbeatIntervalMs, this.#log);
    const accepting = () => !this.#stopping && isRunning() && !isStale() && failure === undefined;
    // An offset promises that everything before it is done: the committed
    // position follows the contiguous finished prefix of the batch, as it
    // grows (a slow record does not hold back the checkpoint of earlier ones).
    let prefix = -1;
    let committed = -1;
    let flushing: Promise<void> | undefined;
    const flush = (): Promise<void> => {
      flushing ??= (async () => {
        try {
          while (committed < prefix && !isStale()) {
            const target = prefix;
            const message = batch.messages[target] as KafkaMessage;
            payload.resolveOffset(message.offset);
            await this.#commit(payload, batch, message.offset);
            committed = target;
          }
        } finally {
          flushing = undefined;
        }
      })();
      return flushing;
    };
    const finished = (index: number) => {
      done[index] = true;
      if (index !== prefix + 1) return;
      while (prefix + 1 < done.length && done[prefix + 1]) prefix += 1;
      // Mid-batch commits are best effort (a rebalance may reject them); the final one below is not.
      flush().catch((error: unknown) => this.#log.debug({ err: error }, 'intermediate offset commit failed'));
    };
    try {
      for (const [index, message] of batch.messages.entries()) {
        if (!accepting()) break;
        const origin = { topic: batch.topic, partition: batch.partition, offset: message.offset };
        // Wrapped: awaiting a bare promise here would wait for the record itself.
        const admitted = await this.#admit(message, origin, accepting);
        if (!admitted) break;
        tasks.push(
          admitted.task.then(
            () => finished(index),
            (error: unknown) => {
              failure ??= error;
            },
          ),
        );
      }
      await Promise.all(tasks);
    } finally {
      keepAlive.stop();
    }
    await flushing?.catch(() => undefined);
    await flush();
    if (failure !== undefined && !(failure instanceof DeliveryAbandonedError)) {
      // kafkajs restarts from the committed offset; the processed-event records skip what already ran.
      throw failure;
    }
  }

  /**
   * Batch mode: the fetched records of one partition are taken in steps of
   * up to maxEvents × inFlight; a step is split by key hash into up to
   * inFlight lanes of batches of ≤ maxEvents (ADR 019), lanes side by side,
   * a lane's batches in partition order (one key lives in one lane, so its
   * order holds). The step's last offset is committed once every lane's
   * transactions committed. A crash before that commit, or a rebalance,
   * redelivers the step, and the key-slot positions in PostgreSQL (ADR 039;
   * processed-event records for records without an outbox seq) make the
   * redelivery a no-op: the committed offset is only where reading resumes.
   */
  async #eachBatchBatched(
    payload: EachBatchPayload,
    { maxEvents, inFlight }: { maxEvents: number; inFlight: number },
  ): Promise<void> {
    const { batch, heartbeat, isRunning, isStale } = payload;
    const keepAlive = heartbeats(heartbeat, this.#options.heartbeatIntervalMs, this.#log);
    const step = maxEvents * inFlight;
    try {
      for (let from = 0; from < batch.messages.length; from += step) {
        if (this.#stopping || !isRunning() || isStale()) return;
        const messages = batch.messages.slice(from, from + step);
        const events: EventRecord[] = [];
        const seqs = new Map<string, number | undefined>();
        for (const message of messages) {
          const origin = { topic: batch.topic, partition: batch.partition, offset: message.offset };
          try {
            const event = eventFromRecord(origin.topic, message);
            this.#origins.set(event.id, origin);
            seqs.set(event.id, outboxSeqOf(message));
            events.push(event);
          } catch (error) {
            if (!(error instanceof MalformedRecordError)) throw error;
            await this.#deadLetterMalformed(message, origin, error);
          }
        }
        this.#batchInFlight += messages.length;
        this.#maxInFlightSeen = Math.max(this.#maxInFlightSeen, this.#batchInFlight);
        try {
          // Records of the built-in relay carry their outbox seq: redeliveries are
          // recognised by it (ADR 039); others' (Debezium's) by processed_events.
          const hooks: BatchHooks =
            this.#byPosition && [...seqs.values()].every((seq) => seq !== undefined)
              ? {
                  positions: keyPositions(
                    this.#spec.database.schema,
                    this.#spec.group,
                    batch.topic,
                    batch.partition,
                    (e) => seqs.get(e.id) ?? 0,
                  ),
                }
              : {};
          const lanes = splitByKey(
            events,
            (e) => e.key,
            lanesFor(events.length, maxEvents, inFlight),
            maxEvents,
          );
          const outcomes = await Promise.allSettled(
            lanes.map(async (batches) => {
              for (const part of batches) await this.#runtime.deliverBatch(part, hooks);
            }),
          );
          const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
          // Abandoned by stop: nothing of this step is committed; the next owner gets it again.
          if (failed?.reason instanceof DeliveryAbandonedError) return;
          if (failed) throw failed.reason;
        } finally {
          this.#batchInFlight -= messages.length;
          for (const event of events) this.#origins.delete(event.id);
        }
        const last = messages[messages.length - 1] as KafkaMessage;
        payload.resolveOffset(last.offset);
        await this.#commit(payload, batch, last.offset);
      }
    } finally {
      keepAlive.stop();
    }
  }

  /**
   * Waits for room in the lanes (pausing fetches meanwhile), then submits the
   * record. The capacity check and the submit run in one synchronous step, so
   * partitions waiting together cannot overshoot the bound.
   */
  async #admit(
    message: KafkaMessage,
    origin: RecordOrigin,
    accepting: () => boolean,
  ): Promise<{ task: Promise<void> } | undefined> {
    while (this.#lanes.full) {
      this.#pause();
      await this.#lanes.waitForCapacity();
      if (!accepting()) return undefined;
    }
    let event: EventRecord;
    try {
      event = eventFromRecord(origin.topic, message);
    } catch (error) {
      if (!(error instanceof MalformedRecordError)) throw error;
      // Not an event at all: no id to record as processed; the DLQ topic keeps it and the offset moves past it.
      return { task: this.#deadLetterMalformed(message, origin, error) };
    }
    const task = this.#lanes.submit(event.key, async () => {
      this.#origins.set(event.id, origin);
      try {
        await this.#runtime.deliver(event);
      } finally {
        this.#origins.delete(event.id);
        if (this.#paused && this.#lanes.inFlight <= Math.ceil(this.#lanes.concurrency / 2)) this.#resume();
      }
    });
    this.#maxInFlightSeen = Math.max(this.#maxInFlightSeen, this.#lanes.inFlight);
    return { task };
  }

  async #deadLetterMalformed(
    message: KafkaMessage,
    origin: RecordOrigin,
    error: MalformedRecordError,
  ): Promise<void> {
    this.#log.error({ err: error, ...origin }, 'malformed record dead-lettered');
    const headers: Record<string, string> = {};
    for (const name of Object.keys(message.headers ?? {}))
      headers[name] = headerText(message.headers, name) ?? '';
    await publishDeadLetter(await this.#deps.producer(), this.#spec.group, {
      key: message.key?.toString('utf8') ?? null,
      value: message.value,
      headers,
      reason: `${error.name}: ${error.message}`,
      attempts: 1,
      origin,
    });
    this.#consumerMetrics.deadLettered.inc({ group: this.#spec.group });
  }

  /**
   * Commits through the batch's own handle: unlike consumer.commitOffsets,
   * which kafkajs skips once stop() began, it still commits while a stopping
   * consumer drains its in-flight records.
   */
  async #commit(payload: EachBatchPayload, batch: Batch, offset: string): Promise<void> {
    const next = (BigInt(offset) + 1n).toString();
    await payload.commitOffsetsIfNecessary({
      topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
    });
    this.#metrics.commits.inc({ group: this.#spec.group });
  }

  #pause(): void {
    if (this.#paused || !this.#consumer) return;
    this.#paused = true;
    this.#pauses += 1;
    this.#metrics.pauses.inc({ group: this.#spec.group });
    this.#consumer.pause(this.#spec.topics.map((topic) => ({ topic })));
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#consumer?.resume(this.#spec.topics.map((topic) => ({ topic })));
  }
}

function eventHeaders(event: EventRecord): Record<string, string> {
  return {
    [EVENT_HEADERS.id]: event.id,
    [EVENT_HEADERS.type]: event.type,
    [EVENT_HEADERS.timestamp]: event.timestamp,
  };
}

/** Publishes a dead letter to nova.dlq.<group>, keeping the original key, value and headers. */
export async function publishDeadLetter(
  producer: Producer,
  group: string,
  letter: {
    key: string | null;
    value: string | Buffer | null;
    headers: Record<string, string>;
    reason: string;
    attempts: number;
    origin: RecordOrigin;
  },
): Promise<void> {
  await producer.send({
    topic: deadLetterTopicFor(group),
    acks: -1,
    messages: [
      {
        key: letter.key,
        value: letter.value,
        headers: {
          ...letter.headers,
          [DEAD_LETTER_HEADERS.reason]: letter.reason.slice(0, 4000),
          [DEAD_LETTER_HEADERS.attempts]: String(letter.attempts),
          [DEAD_LETTER_HEADERS.group]: group,
          [DEAD_LETTER_HEADERS.topic]: letter.origin.topic,
          [DEAD_LETTER_HEADERS.partition]: String(letter.origin.partition),
          [DEAD_LETTER_HEADERS.offset]: letter.origin.offset,
        },
      },
    ],
  });
}

/** Heartbeats while a batch is worked on, so long batches do not cost the partitions. */
function heartbeats(heartbeat: () => Promise<void>, intervalMs: number, log: Logger): { stop(): void } {
  let stopped = false;
  const beat = async (): Promise<void> => {
    while (!stopped) {
      await sleep(intervalMs);
      if (stopped) return;
      // A failed heartbeat means a rebalance: the commit after the batch reports it to kafkajs.
      await heartbeat().catch((error: unknown) => log.debug({ err: error }, 'heartbeat failed'));
    }
  };
  void beat();
  return {
    stop() {
      stopped = true;
    },
  };
}

async function withDeadline<T>(work: Promise<T>, deadline: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
