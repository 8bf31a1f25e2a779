import { MODULES } from '../../apps/nova/src/modules.js';
import { k8sFiles, type ModuleInfo, readPostgresInit } from './k8s-manifests.js';
import { SERVICE_SHAPES } from './topology.js';

export const DEPLOY_DIR = new URL('../../deploy/', import.meta.url);
export const K8S_DIR = new URL('k8s/', DEPLOY_DIR);

/** The registry's modules, in registration order (the manifests' order). */
export const moduleInfos = (): ModuleInfo[] =>
  Object.values(MODULES).map((m) => ({ name: m.name, dependsOn: [...m.dependsOn] }));

/** What `npm run deploy:generate` writes under deploy/k8s (path → text). */
export const generatedK8sFiles = (): Record<string, string> =>
  k8sFiles(moduleInfos(), SERVICE_SHAPES, readPostgresInit(DEPLOY_DIR));
