/**
 * The stores one cluster of scripts/cluster.sh owns on the shared engines:
 * a PostgreSQL database per service, a Redis key prefix, a ClickHouse
 * database and an S3 bucket. `create` makes them fresh (what an earlier run
 * under the same name left is dropped first); `drop` removes them and
 * everything in them. Read from the environment cluster.sh sets:
 *   CLUSTER_POSTGRES_ADMIN_URL  a URL of the server's maintenance database
 *   CLUSTER_DATABASES           space-separated database names
 *   CLUSTER_REDIS_URL, CLUSTER_REDIS_PREFIX
 *   CLUSTER_CLICKHOUSE_URL, CLUSTER_CLICKHOUSE_DATABASE   (optional)
 *   CLUSTER_S3_ENDPOINT, CLUSTER_S3_BUCKET                (optional; S3Proxy's test credentials)
 *   CLUSTER_KAFKA                                         (optional) bootstrap servers
 */
import { DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { EVENT_TOPICS } from '@nova/contracts';
import { TopicManager } from '@nova/kafka';
import { deleteRedisPrefix } from '@nova/kernel/testing';
import { createS3Client, ensureBucket, type S3Settings } from '@nova/s3';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

// Names go into SQL unquoted: cluster.sh builds them from [a-z0-9_] only, and this checks it.
const identifier = (name: string): string => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain identifier: ${name}`);
  return name;
};

async function withAdmin(fn: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: env('CLUSTER_POSTGRES_ADMIN_URL') });
  await client.connect();
  try {
    await fn(client);
  } finally {
    await client.end();
  }
}

const databases = () => env('CLUSTER_DATABASES').split(/\s+/).filter(Boolean).map(identifier);

async function dropDatabases(): Promise<void> {
  await withAdmin(async (client) => {
    for (const name of databases()) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}

async function createDatabases(): Promise<void> {
  await withAdmin(async (client) => {
    for (const name of databases()) {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.query(`CREATE DATABASE ${name}`);
    }
  });
}

/** The cluster's keys, removed the way test suites remove theirs. */
const deleteClusterKeys = () => deleteRedisPrefix(env('CLUSTER_REDIS_PREFIX'), env('CLUSTER_REDIS_URL'));

async function dropClickHouseDatabase(): Promise<void> {
  const url = process.env.CLUSTER_CLICKHOUSE_URL;
  if (!url) return;
  const database = identifier(env('CLUSTER_CLICKHOUSE_DATABASE'));
  const response = await fetch(url, { method: 'POST', body: `DROP DATABASE IF EXISTS ${database}` });
  if (!response.ok) throw new Error(`ClickHouse refused to drop ${database}: ${await response.text()}`);
}

function s3Settings(): S3Settings | undefined {
  const endpoint = process.env.CLUSTER_S3_ENDPOINT;
  if (!endpoint) return undefined;
  return {
    bucket: env('CLUSTER_S3_BUCKET'),
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'nova', secretAccessKey: 'nova-test-secret' },
  };
}

async function deleteBucket(settings: S3Settings): Promise<void> {
  const client = createS3Client(settings);
  try {
    for (;;) {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: settings.bucket }));
      const keys = (listed.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length === 0) break;
      // One by one: S3Proxy refuses the batch DeleteObjects the SDK sends (its checksum header is
      // "functionality that is not implemented"), and a bucket with objects left cannot be dropped.
      await Promise.all(
        keys.map((key) => client.send(new DeleteObjectCommand({ Bucket: settings.bucket, Key: key.Key }))),
      );
    }
    await client.send(new DeleteBucketCommand({ Bucket: settings.bucket }));
  } catch (error) {
    if ((error as { name?: string }).name !== 'NoSuchBucket') throw error;
  } finally {
    client.destroy();
  }
}

/**
 * Every event topic, created before the services start: when they all start at once on a
 * fresh broker, each creates the topics it uses, and a consumer subscribing to one that
 * another process created a moment before can fail its start ("This server does not host
 * this topic-partition"). Three partitions, as the Kafka adapter creates them.
 */
async function createTopics(): Promise<void> {
  const brokers = process.env.CLUSTER_KAFKA;
  if (!brokers) return;
  const admin = new Kafka({
    clientId: 'nova-cluster',
    brokers: brokers.split(','),
    logLevel: logLevel.ERROR,
  }).admin();
  await admin.connect();
  try {
    await new TopicManager(async () => admin, 3).ensure(EVENT_TOPICS.map((t) => t.topic));
  } finally {
    await admin.disconnect();
  }
}

async function main(command: string | undefined): Promise<void> {
  const s3 = s3Settings();
  if (command === 'create') {
    await createDatabases();
    await deleteClusterKeys();
    await dropClickHouseDatabase();
    if (s3) {
      await deleteBucket(s3);
      await ensureBucket(s3);
    }
    await createTopics();
    return;
  }
  if (command === 'drop') {
    await dropDatabases();
    await deleteClusterKeys();
    await dropClickHouseDatabase();
    if (s3) await deleteBucket(s3);
    return;
  }
  throw new Error('usage: stores.ts create|drop');
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`cluster stores: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
