import { BackfillPositionLostError, type GroupPositions, type LogPositions } from '@nova/kernel';
import type { Admin } from 'kafkajs';
import type { TopicManager } from './topics.js';

/**
 * Positions on Kafka for a backfill (ADR 018): the end of a topic is each
 * partition's high watermark (every record below it is acknowledged by the
 * in-sync replicas; the relay publishes a row only after its transaction
 * committed), and seeking commits the group's offsets through the admin
 * client, which Kafka allows only while the group has no running member.
 */
export function kafkaGroupPositions(admin: () => Promise<Admin>, topics: TopicManager): GroupPositions {
  return {
    async hasCheckpoint(group, names) {
      // fetchOffsets fails for a topic that does not exist yet (nothing published to it).
      await topics.ensure(names);
      const offsets = await (await admin()).fetchOffsets({ groupId: group, topics: [...names] });
      return offsets.some((t) => t.partitions.some((p) => Number(p.offset) >= 0));
    },

    async end(names) {
      // A topic nobody published to yet may not exist: its end is offset 0 everywhere.
      await topics.ensure(names);
      const client = await admin();
      const positions: LogPositions = {};
      for (const topic of names) {
        const partitions = await client.fetchTopicOffsets(topic);
        positions[topic] = Object.fromEntries(partitions.map((p) => [String(p.partition), p.high]));
      }
      return positions;
    },

    async seek(group, positions) {
      const client = await admin();
      for (const [topic, partitions] of Object.entries(positions)) {
        // Records after the position already deleted by retention would be skipped silently.
        const current = await client.fetchTopicOffsets(topic);
        for (const p of current) {
          const recorded = partitions[String(p.partition)];
          if (recorded !== undefined && BigInt(p.low) > BigInt(recorded))
            throw new BackfillPositionLostError(
              group,
              `${topic}[${p.partition}] starts at ${p.low}, recorded ${recorded}`,
            );
        }
        await client.setOffsets({
          groupId: group,
          topic,
          partitions: Object.entries(partitions).map(([partition, offset]) => ({
            partition: Number(partition),
            offset,
          })),
        });
      }
    },
  };
}
