import { readdirSync, readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';

export const ROOT = new URL('../../', import.meta.url);
export const DEPLOY = new URL('deploy/', ROOT);
export const K8S = new URL('k8s/', DEPLOY);

export type Doc = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
};

export interface K8sDoc {
  file: string;
  doc: Doc;
}

/** Every YAML file under deploy/k8s except kustomization.yaml, relative to it. */
export function k8sManifestFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(new URL(dir, K8S), { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(`${dir}${entry.name}/`) : [`${dir}${entry.name}`],
    );
  return walk('')
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort();
}

export function loadK8sDocs(): K8sDoc[] {
  return k8sManifestFiles().flatMap((file) =>
    parseAllDocuments(readFileSync(new URL(file, K8S), 'utf8')).map((document) => {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]?.message}`);
      return { file, doc: document.toJS() as Doc };
    }),
  );
}

export const readYaml = (url: URL): Record<string, unknown> =>
  parse(readFileSync(url, 'utf8'), { merge: true }) as Record<string, unknown>;

// The shapes of the few manifest parts the consistency checks read.
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}
export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
}
export interface Probe {
  httpGet?: { path: string; port: string | number };
}
export interface PodTemplate {
  spec: { containers: Container[]; terminationGracePeriodSeconds?: number };
}

export const podTemplate = (doc: Doc): PodTemplate | undefined =>
  (doc.spec as { template?: PodTemplate } | undefined)?.template;

/** The containers that run Nova's image, with the document they belong to. */
export function novaContainers(docs: readonly K8sDoc[]): { doc: Doc; container: Container }[] {
  return docs.flatMap(({ doc }) =>
    (podTemplate(doc)?.spec.containers ?? [])
      .filter((c) => c.image.split(':')[0] === 'nova')
      .map((container) => ({ doc, container })),
  );
}

/** `--target=x` of a Nova container's args. */
export const targetOf = (args: readonly string[] = []): string | undefined =>
  args.find((a) => a.startsWith('--target='))?.slice('--target='.length);

/** The variables a container gets: its env plus every key of the ConfigMaps and Secrets it loads whole. */
export function containerEnv(container: Container, docs: readonly K8sDoc[]): Record<string, string> {
  const byName = (kind: string, name: string) =>
    docs.find((d) => d.doc.kind === kind && d.doc.metadata.name === name)?.doc;
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const ref = source.configMapRef ?? source.secretRef;
    const kind = source.configMapRef ? 'ConfigMap' : 'Secret';
    const found = ref && byName(kind, ref.name);
    if (!found) throw new Error(`${container.name}: envFrom ${kind} ${ref?.name} is not in deploy/k8s`);
    Object.assign(env, (found.data ?? found.stringData) as Record<string, string>);
  }
  for (const variable of container.env ?? []) env[variable.name] = variable.value ?? '(from a reference)';
  return env;
}

/** README's configuration section (variable tables), as the config test reads it. */
export function readmeConfigKeys(): Set<string> {
  const readme = readFileSync(new URL('README.md', ROOT), 'utf8');
  const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Architecture'));
  return new Set(
    [...table.matchAll(/^\| ([^|]+) \|/gm)].flatMap((row) =>
      [...(row[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1] as string),
    ),
  );
}
