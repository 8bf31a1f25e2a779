import { loadConfig } from '@nova/kernel';
import { type AuthConfig, authConfigOf } from '../../src/config.js';
import { authModule } from '../../src/index.js';

/** The config a process running auth would load from `env`, as auth's code sees it. */
export function loadAuthConfig(env: NodeJS.ProcessEnv): AuthConfig {
  return authConfigOf(loadConfig(env, { modules: [authModule] }));
}
