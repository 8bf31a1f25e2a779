import { createLogger } from '@nova/kernel';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../src/client.js';
import { TopicManager } from '../src/topics.js';
import { kafkaBrokers, kafkaDisabled, uniqueSuffix } from './kafka-env.js';

// Processes of a split deployment start together on a fresh broker and race to
// create the same topics. The loser's createTopics answers "already exists"
// without waiting for leaders; ensure() must still return only once the topics
// are served, or the first subscribe/produce there fails.
describe.skipIf(kafkaDisabled())('TopicManager on a real broker', () => {
  const logger = createLogger('silent');
  const clients = Array.from({ length: 4 }, (_, i) =>
    createKafkaClient({ brokers: kafkaBrokers().split(','), clientId: `topics-race-${i}`, logger }),
  );
  const admins = clients.map((kafka) => kafka.admin());
  const created: string[] = [];

  afterAll(async () => {
    const admin = admins[0];
    if (admin && created.length > 0) await admin.deleteTopics({ topics: created }).catch(() => undefined);
    await Promise.all(admins.map((a) => a.disconnect()));
  });

  it('every racing process may produce the moment its ensure() returns', async () => {
    await Promise.all(admins.map((a) => a.connect()));
    for (let round = 0; round < 3; round++) {
      const topics = [`nova.test.race.${uniqueSuffix()}.a`, `nova.test.race.${uniqueSuffix()}.b`];
      created.push(...topics);
      await Promise.all(
        clients.map(async (kafka, i) => {
          const manager = new TopicManager(async () => admins[i] as NonNullable<(typeof admins)[number]>, 6);
          await manager.ensure(topics);
          // No retries: a topic that is not served yet fails the send at once.
          const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
          await producer.connect();
          try {
            for (const topic of topics)
              await producer.send({
                topic,
                messages: Array.from({ length: 6 }, (_, p) => ({ partition: p, value: `${i}` })),
              });
          } finally {
            await producer.disconnect();
          }
        }),
      );
      const metadata = await admins[0]?.fetchTopicMetadata({ topics });
      expect(metadata?.topics.map((t) => t.partitions.length)).toEqual([6, 6]);
      for (const topic of topics) {
        const offsets = await admins[0]?.fetchTopicOffsets(topic);
        expect(offsets?.reduce((sum, p) => sum + Number(p.high), 0)).toBe(clients.length * 6);
      }
    }
  }, 120_000);
});
