import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type Doc, K8S, k8sManifestFiles, loadK8sDocs } from './manifests.js';

/**
 * Every Kubernetes manifest of deploy/k8s checked against the Kubernetes API
 * schemas (the `kubernetes-models` package: the OpenAPI schemas of the
 * Kubernetes release it names, compiled to validators). They check types,
 * required fields and enums; unlike a strict kubeconform they do not refuse
 * an unknown field. The generated manifests get that from the type check
 * (scripts/deploy/k8s-manifests.ts builds them as the package's API types);
 * the handwritten engine files do not.
 */
async function validate(doc: Doc): Promise<void> {
  // The package's folders are API groups and versions (`apps/v1`), the core group's is `v1`.
  const specifier = `kubernetes-models/${doc.apiVersion}/${doc.kind}`;
  let model: { new (data: unknown): { validate(): void } };
  try {
    const module = (await import(/* @vite-ignore */ specifier)) as Record<string, typeof model>;
    model = module[doc.kind] as typeof model;
  } catch {
    throw new Error(`${doc.apiVersion} ${doc.kind} is not a Kubernetes API type`);
  }
  if (!model) throw new Error(`${doc.apiVersion} ${doc.kind} is not a Kubernetes API type`);
  new model(doc).validate();
}

const docs = loadK8sDocs();

describe('deploy/k8s against the Kubernetes schemas', () => {
  it.each(docs.map(({ file, doc }) => [`${file}: ${doc.kind} ${doc.metadata?.name}`, doc] as const))(
    '%s',
    async (_name, doc) => {
      await validate(doc);
    },
  );

  it('kustomization.yaml lists every manifest file and only existing ones', () => {
    const kustomization = parse(readFileSync(new URL('kustomization.yaml', K8S), 'utf8')) as {
      resources: string[];
    };
    expect([...kustomization.resources].sort()).toEqual(k8sManifestFiles());
  });

  it('names are unique per kind', () => {
    const keys = docs.map(({ doc }) => `${doc.kind}/${doc.metadata.name}`);
    expect(keys.filter((key, i) => keys.indexOf(key) !== i)).toEqual([]);
  });
});

describe('the schema check itself', () => {
  const deployment = docs.find(({ doc }) => doc.kind === 'Deployment')?.doc as Doc;
  interface Editable {
    kind: string;
    spec: {
      replicas?: unknown;
      selector?: unknown;
      template: { spec: { containers: { name?: string; ports: { containerPort: unknown }[] }[] } };
    };
  }
  const broken = (change: (d: Editable) => void): Doc => {
    const copy = structuredClone(deployment);
    change(copy as unknown as Editable);
    return copy;
  };

  it('refuses broken manifests', async () => {
    await expect(validate(deployment)).resolves.toBeUndefined();
    await expect(
      validate(
        broken((d) => {
          const port = d.spec.template.spec.containers[0]?.ports[0];
          if (port) port.containerPort = '8080';
        }),
      ),
    ).rejects.toThrow(/containerPort must be integer/);
    await expect(validate(broken((d) => delete d.spec.selector))).rejects.toThrow(/selector/);
    await expect(validate(broken((d) => delete d.spec.template.spec.containers[0]?.name))).rejects.toThrow(
      /name/,
    );
    await expect(validate(broken((d) => (d.spec.replicas = 'two')))).rejects.toThrow(/replicas/);
    await expect(validate(broken((d) => (d.kind = 'Deploymnet')))).rejects.toThrow(
      /not a Kubernetes API type/,
    );
  });
});
