import { GATEWAY_CONFIGURABLE, GATEWAY_TARGET } from '@nova/gateway';
import { type Config, type ConfigComposition, ConfigError, loadConfig } from '@nova/kernel';
import type { CommandOptions } from '../cli.js';
import { MODULES, resolveTarget } from '../modules.js';

/**
 * The registry's modules as loadConfig composes them: all name keys, the
 * target's are read. The gateway target runs no module; it reads its own keys.
 */
export const CONFIG_COMPOSITION: ConfigComposition = {
  modules: Object.values(MODULES),
  extras: [GATEWAY_CONFIGURABLE],
  resolveTarget: (target) =>
    target.trim() === GATEWAY_TARGET ? [GATEWAY_CONFIGURABLE] : resolveTarget(target),
};

/** Loads the configuration (a --target flag overrides NOVA_TARGET); prints every bad key and returns null. */
export function loadConfigOrReport(options: CommandOptions): Config | null {
  const env = options.target ? { ...process.env, NOVA_TARGET: options.target } : process.env;
  try {
    return loadConfig(env, CONFIG_COMPOSITION);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`nova: ${error.message}\n`);
      return null;
    }
    throw error;
  }
}

/**
 * Offline commands (migrate, seed) may rightly run statements for minutes
 * (an index build over millions of rows): the request-path statement
 * timeout does not apply to them.
 */
export function withoutStatementTimeout(config: Config): Config {
  return { ...config, database: { ...config.database, statementTimeoutMs: 0 } };
}
