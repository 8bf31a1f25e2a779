import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';

const run = promisify(execFile);
const root = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(root, 'scripts', 'kafka.sh');
const s3proxyScript = path.join(root, 'scripts', 's3proxy.sh');
const clickhouseScript = path.join(root, 'scripts', 'clickhouse.sh');

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap address of the test broker; '' when NOVA_TEST_KAFKA=off. */
    kafkaBrokers: string;
    /** Endpoint of the S3-compatible test server (S3Proxy); '' when NOVA_TEST_S3=off. */
    s3Endpoint: string;
    /** HTTP endpoint of the test ClickHouse server; '' when NOVA_TEST_CLICKHOUSE=off. */
    clickhouseUrl: string;
  }
}

/**
 * Starts S3Proxy (scripts/s3proxy.sh, idempotent and locked, one server per
 * port shared by every checkout) for the S3 blob-store suites; same rules as
 * the broker: a missing Java fails the run, NOVA_TEST_S3=off opts out.
 */
async function startS3Proxy(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.NOVA_TEST_S3 === 'off') {
    project.provide('s3Endpoint', '');
    return undefined;
  }
  const wasRunning = await run(s3proxyScript, ['status']).then(
    () => true,
    () => false,
  );
  let endpoint: string;
  try {
    const { stdout } = await run(s3proxyScript, ['start'], { maxBuffer: 1 << 20, timeout: 600_000 });
    endpoint = stdout.trim().split('\n').at(-1) ?? '';
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(
      `scripts/s3proxy.sh start failed; the S3 suites need Java 17+ (and Maven on first use). Set NOVA_TEST_S3=off to opt out explicitly.\n${stderr}`,
      { cause: error },
    );
  }
  if (!/^http:\/\/[\w.-]+:\d+$/.test(endpoint))
    throw new Error(`scripts/s3proxy.sh start printed no endpoint (got "${endpoint}")`);
  process.env.NOVA_TEST_S3_ENDPOINT = endpoint;
  project.provide('s3Endpoint', endpoint);
  return async () => {
    if (!wasRunning) await run(s3proxyScript, ['stop'], { timeout: 60_000 });
  };
}

/**
 * Starts a real ClickHouse server (scripts/clickhouse.sh: Debian's package as
 * a process, idempotent and locked, one server per port shared by every
 * checkout) for the analytics store suites; NOVA_TEST_CLICKHOUSE=off opts out.
 */
async function startClickHouse(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.NOVA_TEST_CLICKHOUSE === 'off') {
    project.provide('clickhouseUrl', '');
    return undefined;
  }
  const wasRunning = await run(clickhouseScript, ['status']).then(
    () => true,
    () => false,
  );
  let endpoint: string;
  try {
    const { stdout } = await run(clickhouseScript, ['start'], { maxBuffer: 1 << 20, timeout: 600_000 });
    endpoint = stdout.trim().split('\n').at(-1) ?? '';
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(
      `scripts/clickhouse.sh start failed; the analytics store suites need Debian's clickhouse-server (installed by the script as root). Set NOVA_TEST_CLICKHOUSE=off to opt out explicitly.\n${stderr}`,
      { cause: error },
    );
  }
  if (!/^http:\/\/[\w.-]+:\d+$/.test(endpoint))
    throw new Error(`scripts/clickhouse.sh start printed no endpoint (got "${endpoint}")`);
  process.env.NOVA_TEST_CLICKHOUSE_URL = endpoint;
  project.provide('clickhouseUrl', endpoint);
  return async () => {
    if (!wasRunning) await run(clickhouseScript, ['stop'], { timeout: 60_000 });
  };
}

/** The engines the suites run against, started once per `vitest run`. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stopS3Proxy = await startS3Proxy(project);
  const stopClickHouse = await startClickHouse(project);
  const stopKafka = await startKafka(project);
  return async () => {
    await stopKafka?.();
    await stopClickHouse?.();
    await stopS3Proxy?.();
  };
}

/**
 * Starts the real Kafka broker once per `vitest run` (scripts/kafka.sh is
 * idempotent and locked, so parallel runs share one broker). The address is
 * handed to test workers twice: through `provide` (read with
 * `inject('kafkaBrokers')`) and as NOVA_TEST_KAFKA_BROKERS, which forked
 * workers inherit because the pool forks them after global setup.
 *
 * A missing Java or Maven fails the whole run on purpose: CI must never skip
 * the Kafka suites silently. NOVA_TEST_KAFKA=off is the explicit opt-out.
 */
async function startKafka(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.NOVA_TEST_KAFKA === 'off') {
    project.provide('kafkaBrokers', '');
    return undefined;
  }
  const wasRunning = await run(script, ['status']).then(
    () => true,
    () => false,
  );
  let brokers: string;
  try {
    const { stdout } = await run(script, ['start'], { maxBuffer: 1 << 20, timeout: 600_000 });
    brokers = stdout.trim().split('\n').at(-1) ?? '';
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(
      `scripts/kafka.sh start failed; the Kafka suites need Java 17+ (and Maven on first use). Set NOVA_TEST_KAFKA=off to opt out explicitly.\n${stderr}`,
      { cause: error },
    );
  }
  if (!/^[\w.-]+:\d+$/.test(brokers))
    throw new Error(`scripts/kafka.sh start printed no address (got "${brokers}")`);
  process.env.NOVA_TEST_KAFKA_BROKERS = brokers;
  project.provide('kafkaBrokers', brokers);
  return async () => {
    // Someone else's broker (a developer's, a parallel run's) stays up.
    if (!wasRunning) await run(script, ['stop'], { timeout: 120_000 });
  };
}
