export * from './remote-token-verifier.js';
