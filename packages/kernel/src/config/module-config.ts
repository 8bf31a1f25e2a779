import type { Static, TObject } from '@sinclair/typebox';
import type { KernelConfig } from './config.js';

/** What a module's derive step sees besides its own keys. */
export interface ModuleConfigContext {
  /** The kernel's settings of this process (env, data dir, public URL, …). */
  kernel: KernelConfig;
  /** Reports a bad value; loadConfig names every problem of every module at once. */
  problem(key: string, message: string): void;
}

/**
 * A module's own environment variables (`services/<name>/src/config.ts`):
 * a TypeBox schema of its keys, and a step that checks values against each
 * other and the target the module runs in, then derives the settings the
 * module's code reads. The kernel composes the schemas of the modules a
 * target runs; keys of modules that do not run are neither read nor required.
 */
export interface ModuleConfig<S extends TObject = TObject, Settings = unknown> {
  schema: S;
  derive(env: Static<S>, context: ModuleConfigContext): Settings;
}

/** Declares a module's config with its types inferred from the schema. */
export function defineModuleConfig<S extends TObject, Settings>(
  spec: ModuleConfig<S, Settings>,
): ModuleConfig<S, Settings> {
  return spec;
}

/** The settings type a module config derives. */
export type SettingsOf<M> = M extends ModuleConfig<TObject, infer Settings> ? Settings : never;

/** What loadConfig needs of a module: its name and its config, if it has any. */
export interface ConfigurableModule {
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: each module's schema and settings types differ
  config?: ModuleConfig<any, unknown>;
}

export class ModuleSettingsMissingError extends Error {
  constructor(module: string) {
    super(`the settings of module "${module}" were not loaded: pass the module to loadConfig`);
    this.name = 'ModuleSettingsMissingError';
  }
}

/**
 * The derived settings of `module` in `config`. Throws when the module was
 * not part of the composition that built the config (a wiring mistake, not a
 * bad environment).
 */
export function moduleSettings<Settings>(
  config: { modules: Readonly<Record<string, unknown>> },
  module: string,
  // The spec is passed for its type only: the caller gets exactly what it derives.
  _spec: ModuleConfig<TObject, Settings>,
): Settings {
  if (!(module in config.modules)) throw new ModuleSettingsMissingError(module);
  return config.modules[module] as Settings;
}
