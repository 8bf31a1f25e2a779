import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/**/test/**/*.test.ts', 'apps/**/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['./vitest.global-setup.ts'],
    pool: 'forks',
    // Suites own their databases and ports; files run in parallel up to the core count.
    maxWorkers: 2,
    reporters: ['default', './vitest.summary-reporter.ts'],
  },
});
