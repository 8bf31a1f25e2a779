// The Kafka engine adapter behind the kernel's EventLog: the relay (outbox →
// topics), consumer groups with exactly-once effects, topics and retention.
// The app wires it (createEventLog's `kafka` option); nothing else imports it.
export { createKafkaClient } from './client.js';
export { type KafkaConsumerOptions, KafkaConsumerWorker } from './consumer.js';
export { createKafkaEventLog, type KafkaEventLog } from './kafka-event-log.js';
export * from './records.js';
export * from './relay.js';
export * from './retention.js';
export { TopicManager } from './topics.js';
