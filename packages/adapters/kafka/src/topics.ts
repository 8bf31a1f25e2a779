import type { Admin } from 'kafkajs';

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
      // false = some already existed: fine. waitForLeaders so the first produce does not fail.
      await admin.createTopics({
        waitForLeaders: true,
        topics: topics.map((topic) => ({ topic, numPartitions: this.partitions })),
      });
      for (const topic of topics) this.#known.add(topic);
    } finally {
      for (const topic of topics) this.#pending.delete(topic);
    }
  }
}
