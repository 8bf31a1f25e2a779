import { authModule } from '@nova/auth';
import type { ServiceApis } from '@nova/contracts';
import type { ServiceModule } from '@nova/kernel';
import { socialModule } from '@nova/social';

/**
 * The module registry (Mimir's modules.go in miniature): every service this
 * binary can run, and the groups a target may name. A process runs exactly
 * the modules of its target; a dependency is an API the module needs, served
 * in-process when the target includes it, else by the process that
 * NOVA_<SERVICE>_URL names.
 */
// Each module declares its own deps type; the registry only needs their names.
type AnyModule = ServiceModule<unknown, never>;

export const MODULES: Readonly<Record<string, AnyModule>> = {
  auth: authModule as AnyModule,
  social: socialModule as AnyModule,
};

export const GROUPS: Readonly<Record<string, readonly string[]>> = {
  all: Object.keys(MODULES),
};

export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}

/**
 * Resolves `all`, a service name or a comma-separated list into the modules
 * this process runs, each after the in-process modules it depends on.
 */
export function resolveTarget(target: string): AnyModule[] {
  const requested = new Set(
    target
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean)
      .flatMap((name) => {
        const group = GROUPS[name];
        if (group) return [...group];
        if (MODULES[name]) return [name];
        const known = [...Object.keys(GROUPS), ...Object.keys(MODULES)].join(', ');
        throw new TargetError(`unknown target "${name}" (known: ${known})`);
      }),
  );
  if (requested.size === 0) throw new TargetError('empty target');
  const ordered: AnyModule[] = [];
  const visiting = new Set<string>();
  const visit = (name: string): void => {
    const module = MODULES[name];
    if (!module) throw new TargetError(`module "${name}" is not registered`);
    if (ordered.includes(module)) return;
    if (visiting.has(name)) throw new TargetError(`dependency cycle at "${name}"`);
    visiting.add(name);
    for (const dep of module.dependsOn) if (requested.has(dep)) visit(dep);
    ordered.push(module);
  };
  for (const name of requested) visit(name);
  return ordered;
}

/**
 * The dependencies the target's modules need from other processes, each with
 * the URL that serves it. Refuses to start when a needed API is neither in
 * this process nor given an address.
 */
export function resolveRemoteDependencies(
  modules: readonly AnyModule[],
  serviceUrls: Readonly<Partial<Record<string, string>>>,
): Record<string, string> {
  const local = new Set(modules.map((m) => m.name));
  const remote: Record<string, string> = {};
  for (const module of modules) {
    for (const dep of module.dependsOn) {
      if (local.has(dep) || remote[dep]) continue;
      if (!MODULES[dep]) throw new TargetError(`module "${module.name}" depends on unknown module "${dep}"`);
      const url = serviceUrls[dep];
      if (!url) {
        throw new TargetError(
          `"${module.name}" needs the ${dep} API, which this process does not run: ` +
            `add ${dep} to the target (--target=${[...local, dep].join(',')}) or set ` +
            `NOVA_${dep.toUpperCase()}_URL to the grpc://host:port of a process that runs it`,
        );
      }
      remote[dep] = url;
    }
  }
  return remote;
}

export type { ServiceApis };
