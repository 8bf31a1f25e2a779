import type { Admin, Batch, Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { Logger } from '../../logging/logger.js';
import { counter, gauge } from '../../metrics/metrics.js';
import type { Worker, WorkerHealth } from '../../workers/worker.js';
import { deadLetterTopicFor, type EventRecord } from '../event-log.js';
import { DEAD_LETTER_HEADERS, eventFromRecord, MalformedRecordError } from './records.js';
import { sleep } from './signal.js';
import type { TopicManager } from './topics.js';

/** Where a consumed record came from; the dead-letter headers carry it. */
export interface RecordOrigin {
  topic: string;
  partition: number;
  offset: string;
}

/** A dead letter as the Kafka sink publishes it. */
export interface DeadLetter {
  event: EventRecord;
  reason: string;
  error: string;
  attempts: number;
  origin: RecordOrigin;
}

/**
 * Processes one event exactly once on the consumer's database (the kernel
 * consumer runtime: processed-event record + effects in one transaction,
 * retries, dead letters). Resolves once the outcome is committed; rejects
 * only when it could not be recorded at all (the record is then redelivered).
 */
export type ProcessEvent = (event: EventRecord, origin: RecordOrigin) => Promise<void>;

/** Records that are not events at all (no id header, bad JSON) have no runtime path: dead-letter them directly. */
export type DeadLetterMalformed = (
  message: KafkaMessage,
  origin: RecordOrigin,
  error: MalformedRecordError,
) => Promise<void>;

/** Runs tasks with per-key order and a bound on how many run at once (the kernel's keyed lanes). */
export interface Lanes {
  /** Queues `task` behind earlier tasks with the same key; resolves when it has run. */
  run(key: string, task: () => Promise<void>): Promise<void>;
}

export interface KafkaConsumerOptions {
  /** Most records submitted and not yet committed at once; fetching pauses at the bound (default 4 × concurrency). */
  maxInFlight?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  rebalanceTimeoutMs?: number;
  /** Broker-side wait for a fetch to fill (default 100 ms: events are latency-sensitive). */
  maxWaitTimeMs?: number;
  /** Lag refresh period (default 10 s). */
  lagIntervalMs?: number;
}

export interface KafkaConsumerDeps {
  kafka: Kafka;
  admin(): Promise<Admin>;
  producer(): Promise<Producer>;
  topics: TopicManager;
  logger: Logger;
  metrics: Registry;
}

export interface KafkaConsumerSpec {
  group: string;
  topics: string[];
  concurrency: number;
  process: ProcessEvent;
  lanes: Lanes;
  deadLetterMalformed: DeadLetterMalformed;
}

/**
 * A Kafka consumer-group member feeding the kernel consumer runtime.
 *
 * Offsets are committed only after the records' transactions committed
 * (autoCommit off, eachBatch without auto-resolve): a crash anywhere
 * redelivers, and the processed-event record turns the redelivery into a
 * no-op. Partitions are processed concurrently; inside one, distinct keys run
 * in parallel through the lanes while one key's events stay in order. The
 * consumer pauses fetching while `maxInFlight` records are unfinished.
 */
export class KafkaConsumerWorker implements Worker {
  readonly name: string;
  readonly #spec: KafkaConsumerSpec;
  readonly #deps: KafkaConsumerDeps;
  readonly #options: Required<KafkaConsumerOptions>;
  readonly #log: Logger;
  readonly #metrics: {
    lag: ReturnType<typeof gauge>;
    inFlight: ReturnType<typeof gauge>;
    pauses: ReturnType<typeof counter>;
    commits: ReturnType<typeof counter>;
  };
  #consumer: Consumer | undefined;
  #inFlight = 0;
  #maxInFlightSeen = 0;
  #capacityWaiters: (() => void)[] = [];
  #paused = false;
  #stopping = false;
  #abandon: (() => void) | undefined;
  #abandoned: Promise<void> = new Promise(() => undefined);
  #crashed: string | undefined;
  #lagTimer: NodeJS.Timeout | undefined;
  #lagTotal = 0;

  constructor(spec: KafkaConsumerSpec, deps: KafkaConsumerDeps, options: KafkaConsumerOptions = {}) {
    this.#spec = spec;
    this.#deps = deps;
    this.name = `kafka-consumer:${spec.group}`;
    this.#log = deps.logger.child({ worker: this.name });
    this.#options = {
      maxInFlight: options.maxInFlight ?? spec.concurrency * 4,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 3_000,
      rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 60_000,
      maxWaitTimeMs: options.maxWaitTimeMs ?? 100,
      lagIntervalMs: options.lagIntervalMs ?? 10_000,
    };
    this.#metrics = {
      lag: gauge(deps.metrics, {
        name: 'nova_consumer_lag',
        help: 'Events not yet processed by the group: log end offset minus committed offset',
        labelNames: ['group', 'topic', 'partition'],
      }),
      inFlight: gauge(deps.metrics, {
        name: 'nova_kafka_consumer_in_flight',
        help: 'Records fetched and not yet committed',
        labelNames: ['group'],
      }),
      pauses: counter(deps.metrics, {
        name: 'nova_kafka_consumer_pauses_total',
        help: 'Times fetching paused because the in-flight bound was reached (backpressure)',
        labelNames: ['group'],
      }),
      commits: counter(deps.metrics, {
        name: 'nova_kafka_consumer_offset_commits_total',
        help: 'Offset commits (each after the records’ transactions committed)',
        labelNames: ['group'],
      }),
    };
  }

  /** Highest number of records in flight at once so far (tests check the bound). */
  get maxInFlightSeen(): number {
    return this.#maxInFlightSeen;
  }

  get maxInFlight(): number {
    return this.#options.maxInFlight;
  }

  async start(): Promise<void> {
    if (this.#consumer) return;
    this.#stopping = false;
    this.#abandoned = new Promise((resolve) => {
      this.#abandon = resolve;
    });
    const { group, topics } = this.#spec;
    await this.#deps.topics.ensure([...topics, deadLetterTopicFor(group)]);
    const consumer = this.#deps.kafka.consumer({
      groupId: group,
      sessionTimeout: this.#options.sessionTimeoutMs,
      heartbeatInterval: this.#options.heartbeatIntervalMs,
      rebalanceTimeout: this.#options.rebalanceTimeoutMs,
      maxWaitTimeInMs: this.#options.maxWaitTimeMs,
      allowAutoTopicCreation: false,
      // kafkajs restarts the member after a crash (broker gone for longer than
      // its retries); offsets are committed, so it resumes where it stood.
      retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000, restartOnFailure: async () => true },
    });
    consumer.on(consumer.events.CRASH, (event) => {
      this.#crashed = event.payload.error.message;
      this.#log.warn({ err: event.payload.error, restart: event.payload.restart }, 'consumer crashed');
    });
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      this.#crashed = undefined;
      this.#log.debug({ assignment: event.payload.memberAssignment }, 'joined consumer group');
    });
    this.#consumer = consumer;
    await consumer.connect();
    // A new group reads from the beginning: events published before its first start still reach it.
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, this.#spec.concurrency),
      eachBatch: (payload) => this.#eachBatch(payload),
    });
    this.#scheduleLag();
  }

  async stop(deadline: number): Promise<void> {
    const consumer = this.#consumer;
    if (!consumer) return;
    this.#stopping = true;
    if (this.#lagTimer) clearTimeout(this.#lagTimer);
    this.#lagTimer = undefined;
    // In-flight records finish until the deadline; past it they are abandoned
    // uncommitted (redelivered to whoever owns the partition next).
    const abandonTimer = setTimeout(() => this.#abandon?.(), Math.max(0, deadline - Date.now() - 250));
    this.#resume();
    try {
      await withDeadline(consumer.disconnect(), deadline);
    } finally {
      clearTimeout(abandonTimer);
      this.#consumer = undefined;
      for (const wake of this.#capacityWaiters.splice(0)) wake();
    }
  }

  health(): WorkerHealth {
    const detail = {
      inFlight: this.#inFlight,
      paused: this.#paused,
      lag: this.#lagTotal,
      ...(this.#crashed ? { lastCrash: this.#crashed } : {}),
    };
    if (!this.#consumer) return { status: 'down', detail };
    return { status: this.#crashed ? 'degraded' : 'ok', detail };
  }

  /** Refreshes the lag gauge now (also done periodically). */
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
      for (const end of ends) {
        const high = Number(end.high);
        const done = byPartition.get(end.partition) ?? -1;
        // Nothing committed yet: the group starts from the earliest retained offset.
        const lag = Math.max(0, high - (done >= 0 ? done : Number(end.low)));
        total += lag;
        this.#metrics.lag.set({ group, topic, partition: String(end.partition) }, lag);
      }
    }
    this.#lagTotal = total;
    return total;
  }

  #scheduleLag(): void {
    this.#lagTimer = setTimeout(async () => {
      try {
        await this.refreshLag();
      } catch (error) {
        this.#log.debug({ err: error }, 'lag refresh failed');
      }
      if (!this.#stopping) this.#scheduleLag();
    }, this.#options.lagIntervalMs);
    this.#lagTimer.unref();
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale } = payload;
    const origin = (message: KafkaMessage): RecordOrigin => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: message.offset,
    });
    const done: boolean[] = new Array(batch.messages.length).fill(false);
    const tasks: Promise<void>[] = [];
    let failure: unknown;
    const keepAlive = heartbeats(heartbeat, this.#options.heartbeatIntervalMs, this.#log);
    try {
      for (const [index, message] of batch.messages.entries()) {
        if (this.#stopping || !isRunning() || isStale() || failure !== undefined) break;
        await this.#acquire();
        if (this.#stopping || !isRunning() || isStale()) {
          this.#release();
          break;
        }
        const task = this.#runOne(message, origin(message))
          .then(() => {
            done[index] = true;
          })
          .catch((error: unknown) => {
            failure ??= error;
          })
          .finally(() => this.#release());
        tasks.push(task);
      }
      await Promise.race([Promise.all(tasks), this.#abandoned]);
    } finally {
      keepAlive.stop();
    }
    // Commit the contiguous prefix of finished records: an offset is a promise
    // that everything before it is done.
    let next = -1;
    for (const [index, finished] of done.entries()) {
      if (!finished) break;
      next = index;
    }
    if (next >= 0 && !isStale()) {
      const last = batch.messages[next] as KafkaMessage;
      payload.resolveOffset(last.offset);
      await this.#commit(batch, last.offset);
    }
    if (failure !== undefined) {
      // kafkajs restarts from the committed offset; processed records are skipped by their idempotency record.
      throw failure;
    }
  }

  async #runOne(message: KafkaMessage, origin: RecordOrigin): Promise<void> {
    let event: EventRecord;
    try {
      event = eventFromRecord(origin.topic, message);
    } catch (error) {
      if (error instanceof MalformedRecordError) {
        await this.#spec.deadLetterMalformed(message, origin, error);
        return;
      }
      throw error;
    }
    await this.#spec.lanes.run(event.key, () => this.#spec.process(event, origin));
  }

  async #commit(batch: Batch, offset: string): Promise<void> {
    const consumer = this.#consumer;
    if (!consumer) return;
    const next = (BigInt(offset) + 1n).toString();
    await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
    this.#metrics.commits.inc({ group: this.#spec.group });
  }

  /** Waits for an in-flight slot; pauses fetching while none is free. */
  async #acquire(): Promise<void> {
    while (this.#inFlight >= this.#options.maxInFlight && !this.#stopping) {
      this.#pause();
      await new Promise<void>((resolve) => this.#capacityWaiters.push(resolve));
    }
    this.#inFlight += 1;
    this.#maxInFlightSeen = Math.max(this.#maxInFlightSeen, this.#inFlight);
    this.#metrics.inFlight.set({ group: this.#spec.group }, this.#inFlight);
  }

  #release(): void {
    this.#inFlight -= 1;
    this.#metrics.inFlight.set({ group: this.#spec.group }, this.#inFlight);
    // Resume at half the bound, not at bound-1, so fetches come in useful sizes.
    if (this.#paused && this.#inFlight <= this.#options.maxInFlight / 2) this.#resume();
    this.#capacityWaiters.shift()?.();
  }

  #pause(): void {
    if (this.#paused || !this.#consumer) return;
    this.#paused = true;
    this.#metrics.pauses.inc({ group: this.#spec.group });
    this.#consumer.pause(this.#spec.topics.map((topic) => ({ topic })));
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#consumer?.resume(this.#spec.topics.map((topic) => ({ topic })));
  }
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
    error: string;
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
          [DEAD_LETTER_HEADERS.reason]: letter.reason,
          [DEAD_LETTER_HEADERS.error]: letter.error.slice(0, 2000),
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
