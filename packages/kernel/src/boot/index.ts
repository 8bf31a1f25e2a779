// The composition root of a Nova process (and of the test harness): kernel,
// modules, routes, workers and lifecycle for a target. Its own entry point
// because it loads the gRPC transport.
export * from './boot.js';
export * from './process-kernel.js';
export * from './registry.js';
