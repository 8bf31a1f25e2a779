import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';

const run = promisify(execFile);
const root = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(root, 'scripts', 'kafka.sh');

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap address of the test broker; '' when NOVA_TEST_KAFKA=off. */
    kafkaBrokers: string;
  }
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
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
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
