export * from './channel-registry.js';
export * from './frames.js';
export * from './realtime.js';
export * from './socket-route.js';
export * from './typing-channel.js';
