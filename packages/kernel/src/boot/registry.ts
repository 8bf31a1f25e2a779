import type { ServiceModule } from '../module.js';
import type { SyncApiDefinition } from '../sync/definition.js';

// Each module declares its own deps type; the registry only needs their names.
export type AnyModule = ServiceModule<unknown, never>;

export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}

/**
 * The modules a binary (or a test) can run, and the groups a target may name.
 * A process runs exactly the modules of its target; a dependency is an API
 * the module needs, served in-process when the target includes it, else by
 * the process that NOVA_<SERVICE>_URL names, or given by the caller (a test's
 * stand-in for a service it does not start).
 */
export interface ModuleRegistry {
  readonly modules: Readonly<Record<string, AnyModule>>;
  readonly groups: Readonly<Record<string, readonly string[]>>;
  /** `all`, a service name or a comma-separated list: the modules, each after the in-process modules it needs. */
  resolveTarget(target: string): AnyModule[];
  /**
   * What the modules need from other processes, each with the URL that
   * serves it; refuses when a needed API is neither local, `provided`, nor given an address.
   */
  resolveRemoteDependencies(
    modules: readonly AnyModule[],
    serviceUrls: Readonly<Partial<Record<string, string>>>,
    provided?: readonly string[],
  ): Record<string, string>;
  /** The sync API a registered module serves (to build a client of it). */
  syncApiOf(service: string): SyncApiDefinition;
}

/** A registry of `modules`; the group `all` names every one of them. */
export function createModuleRegistry(
  list: readonly ServiceModule<unknown, never>[],
  groups: Readonly<Record<string, readonly string[]>> = {},
): ModuleRegistry {
  const modules: Record<string, AnyModule> = {};
  for (const module of list as unknown as AnyModule[]) {
    if (modules[module.name]) throw new TargetError(`module "${module.name}" is registered twice`);
    modules[module.name] = module;
  }
  const allGroups: Record<string, readonly string[]> = { all: Object.keys(modules), ...groups };

  const resolveTarget = (target: string): AnyModule[] => {
    const requested = new Set(
      target
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean)
        .flatMap((name) => {
          const group = allGroups[name];
          if (group) return [...group];
          if (modules[name]) return [name];
          const known = [...Object.keys(allGroups), ...Object.keys(modules)].join(', ');
          throw new TargetError(`unknown target "${name}" (known: ${known})`);
        }),
    );
    if (requested.size === 0) throw new TargetError('empty target');
    const ordered: AnyModule[] = [];
    const visiting = new Set<string>();
    const visit = (name: string): void => {
      const module = modules[name];
      if (!module) throw new TargetError(`module "${name}" is not registered`);
      if (ordered.includes(module)) return;
      if (visiting.has(name)) throw new TargetError(`dependency cycle at "${name}"`);
      visiting.add(name);
      for (const dep of dependenciesOf(module)) if (requested.has(dep)) visit(dep);
      ordered.push(module);
    };
    for (const name of requested) visit(name);
    return ordered;
  };

  const resolveRemoteDependencies = (
    running: readonly AnyModule[],
    serviceUrls: Readonly<Partial<Record<string, string>>>,
    provided: readonly string[] = [],
  ): Record<string, string> => {
    const local = new Set([...running.map((m) => m.name), ...provided]);
    const remote: Record<string, string> = {};
    for (const module of running) {
      for (const dep of module.dependsOn) {
        if (local.has(dep) || remote[dep]) continue;
        if (!modules[dep])
          throw new TargetError(`module "${module.name}" depends on unknown module "${dep}"`);
        const url = serviceUrls[dep];
        if (!url) {
          throw new TargetError(
            `"${module.name}" needs the ${dep} API, which this process does not run: ` +
              `add ${dep} to the target (--target=${[...running.map((m) => m.name), dep].join(',')}) or set ` +
              `NOVA_${dep.toUpperCase()}_URL to the http://host:port of a process that runs it`,
          );
        }
        remote[dep] = url;
      }
    }
    for (const module of running) {
      for (const dep of module.optionalDependsOn ?? []) {
        if (local.has(dep) || remote[dep] || !modules[dep]) continue;
        const url = serviceUrls[dep];
        if (url) remote[dep] = url;
      }
    }
    return remote;
  };

  return {
    modules,
    groups: allGroups,
    resolveTarget,
    resolveRemoteDependencies,
    syncApiOf(service) {
      const definition = modules[service]?.syncApi;
      if (!definition) throw new TargetError(`module "${service}" declares no sync API to call`);
      return definition;
    },
  };
}

/** Required and optional: both order the modules of one process (a callee initialises first). */
export function dependenciesOf(module: AnyModule): readonly string[] {
  return [...module.dependsOn, ...(module.optionalDependsOn ?? [])];
}
