import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { S3Settings } from '../src/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Provided by vitest.global-setup.ts. */
    s3Endpoint: string;
  }
}

/** The S3Proxy endpoint started by vitest.global-setup.ts; empty only when NOVA_TEST_S3=off. */
export function s3Endpoint(): string {
  return inject('s3Endpoint') || process.env.NOVA_TEST_S3_ENDPOINT || '';
}

export const s3Disabled = (): boolean => s3Endpoint() === '';

/** Settings for a fresh bucket of this run on the test server (credentials of scripts/s3proxy.sh). */
export function testBucketSettings(): S3Settings {
  return {
    bucket: `nova-test-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
    region: 'us-east-1',
    endpoint: s3Endpoint(),
    credentials: { accessKeyId: 'nova', secretAccessKey: 'nova-test-secret' },
  };
}
