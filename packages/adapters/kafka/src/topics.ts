import type { Admin } from 'kafkajs';

/** How long ensure() waits for new or just-created topics to be served by their leaders. */
// Generous: a broker on a loaded machine took over 30 s to host new partitions (load average ~40).
const SETTLE_TIMEOUT_MS = 90_000;
const SETTLE_POLL_MS = 100;

/**
 * Creates topics before first use, with an explicit partition count (the
 * broker's auto-creation would silently pick its own default and hide a
 * misconfiguration). Known topics are cached; creation is idempotent, so
 * several processes racing to create one topic is harmless.
 */
export class TopicManager {
  readonly #known = new Set<string>();
  readonly #pending = new Map<string, Promise<void>>();

  constructor(
    private readonly admin: () => Promise<Admin>,
    private readonly partitions: number,
  ) {}

  async ensure(topics: Iterable<string>): Promise<void> {
    const waits: Promise<void>[] = [];
    const missing: string[] = [];
    for (const topic of new Set(topics)) {
      if (this.#known.has(topic)) continue;
      const pending = this.#pending.get(topic);
      if (pending) waits.push(pending);
      else missing.push(topic);
    }
    if (missing.length > 0) {
      const creation = this.#create(missing);
      for (const topic of missing) this.#pending.set(topic, creation);
      waits.push(creation);
    }
    await Promise.all(waits);
  }

  async #create(topics: string[]): Promise<void> {
    try {
      const admin = await this.admin();
      // Answers false when some topic already existed, and then waits for
      // nothing (waitForLeaders applies to the ones it created).
      await admin.createTopics({
        waitForLeaders: true,
        topics: topics.map((topic) => ({ topic, numPartitions: this.partitions })),
      });
      // Whether created here or by another process a moment ago, metadata
      // names leaders before the partitions are hosted, and a subscribe or
      // produce in that gap fails ("This server does not host this
      // topic-partition"). Wait until every partition answers.
      await settled(admin, topics);
      for (const topic of topics) this.#known.add(topic);
    } finally {
      for (const topic of topics) this.#pending.delete(topic);
    }
  }
}

/**
 * Resolves once every partition of `topics` answers a ListOffsets request on
 * its leader (the broker's metadata names a leader a moment before the
 * partition is hosted); throws after SETTLE_TIMEOUT_MS.
 */
async function settled(admin: Admin, topics: string[]): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  const waiting = new Set(topics);
  let last: unknown;
  for (;;) {
    for (const topic of [...waiting]) {
      try {
        const offsets = await admin.fetchTopicOffsets(topic);
        if (offsets.length > 0) waiting.delete(topic);
      } catch (error) {
        last = error; // UNKNOWN_TOPIC_OR_PARTITION / NOT_LEADER / LEADER_NOT_AVAILABLE while it settles
      }
    }
    if (waiting.size === 0) return;
    if (Date.now() >= deadline)
      throw new Error(`topics ${[...waiting].join(', ')} not served after ${SETTLE_TIMEOUT_MS} ms`, {
        cause: last,
      });
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
  }
}
