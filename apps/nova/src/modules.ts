import { authModule } from '@nova/auth';
import type { ServiceApis } from '@nova/contracts';
import type { ServiceModule } from '@nova/kernel';
import { socialModule } from '@nova/social';

/**
 * The module registry (Mimir's modules.go in miniature): every service this
 * binary can run, and the groups a target may name. A process runs the
 * modules of its target plus whatever they depend on, dependencies first.
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

/** Resolves `all`, a service name or a comma-separated list into modules, dependencies first. */
export function resolveTarget(target: string): AnyModule[] {
  const requested = target
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .flatMap((name) => {
      const group = GROUPS[name];
      if (group) return [...group];
      if (MODULES[name]) return [name];
      const known = [...Object.keys(GROUPS), ...Object.keys(MODULES)].join(', ');
      throw new TargetError(`unknown target "${name}" (known: ${known})`);
    });
  if (requested.length === 0) throw new TargetError('empty target');
  const ordered: AnyModule[] = [];
  const visiting = new Set<string>();
  const visit = (name: string): void => {
    const module = MODULES[name];
    if (!module) throw new TargetError(`module "${name}" is not registered`);
    if (ordered.includes(module)) return;
    if (visiting.has(name)) throw new TargetError(`dependency cycle at "${name}"`);
    visiting.add(name);
    for (const dep of module.dependsOn) visit(dep);
    ordered.push(module);
  };
  for (const name of requested) visit(name);
  return ordered;
}

export type { ServiceApis };
