// Deterministic synthetic data for `nova seed` and benchmarks: users and follows, then posts.
export * from './population.js';
export * from './posts.js';
