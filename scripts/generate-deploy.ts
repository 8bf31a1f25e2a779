/**
 * `npm run deploy:generate`: writes the per-service Kubernetes manifests
 * (deploy/k8s: services/, gateway.yaml, config.yaml, secrets.yaml,
 * engines/postgres.yaml) from the module registry and scripts/deploy/topology.ts.
 * test/deploy/ fails while they are stale.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { generatedK8sFiles, K8S_DIR } from './deploy/files.js';

for (const [file, text] of Object.entries(generatedK8sFiles())) {
  const target = new URL(file, K8S_DIR);
  await mkdir(new URL('.', target), { recursive: true });
  await writeFile(target, text);
  console.log(`wrote deploy/k8s/${file}`);
}
