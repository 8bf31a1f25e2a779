import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Provided by vitest.global-setup.ts. */
    kafkaBrokers: string;
  }
}

/**
 * The test broker's bootstrap address, started by vitest.global-setup.ts.
 * Empty only when NOVA_TEST_KAFKA=off (an explicit opt-out): suites then skip.
 */
export function kafkaBrokers(): string {
  return inject('kafkaBrokers') || process.env.NOVA_TEST_KAFKA_BROKERS || '';
}

export const kafkaDisabled = (): boolean => kafkaBrokers() === '';

/** A suffix that keeps topics, groups and schemas of one run apart from every other run. */
export const uniqueSuffix = (): string => `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
