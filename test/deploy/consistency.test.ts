import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { generateSigningJwk } from '@nova/auth';
import { loadConfig } from '@nova/kernel';
import { describe, expect, it } from 'vitest';
import webPush from 'web-push';
import { parse } from 'yaml';
import { configKeys } from '../../apps/nova/src/commands/config.js';
import { CONFIG_COMPOSITION } from '../../apps/nova/src/commands/load-config.js';
import { MODULES } from '../../apps/nova/src/modules.js';
import { generatedK8sFiles } from '../../scripts/deploy/files.js';
import {
  type Container,
  containerEnv,
  DEPLOY,
  type Doc,
  K8S,
  loadK8sDocs,
  novaContainers,
  podTemplate,
  ROOT,
  readmeConfigKeys,
  readYaml,
  targetOf,
} from './manifests.js';

/**
 * deploy/ against the code it deploys: the module registry, README's
 * configuration table, the routes the app serves and the config loader.
 * A new module, a renamed variable or a new dependency fails here until the
 * manifests follow (most of them by `npm run deploy:generate`).
 */
const docs = loadK8sDocs();
const modules = Object.values(MODULES);
const find = (kind: string, name: string): Doc | undefined =>
  docs.find(({ doc }) => doc.kind === kind && doc.metadata.name === name)?.doc;
const novaContainerOf = (doc: Doc | undefined): Container | undefined =>
  podTemplate(doc as Doc)?.spec.containers.find((c) => c.image.split(':')[0] === 'nova');
const processes = [...modules.map((m) => m.name), 'gateway'];
const urlKey = (service: string) => `NOVA_${service.toUpperCase()}_URL`;
const readme = readmeConfigKeys();

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string | number | null>;
  healthcheck?: { test?: string[]; disable?: boolean };
}
const compose = readYaml(new URL('compose.yaml', DEPLOY)) as { services: Record<string, ComposeService> };
// What `docker compose` makes of `${VAR:?message}` once deploy/.env sets VAR: here, a stand-in value.
const interpolate = (value: string) =>
  value.replace(
    /\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}/g,
    (_all, name: string, op?: string, rest?: string) =>
      op === '-' ? (rest ?? '') : `set-${name.toLowerCase()}`,
  );
const composeNova = Object.entries(compose.services).filter(([, s]) => s.image?.split(':')[0] === 'nova');

describe('every service and the gateway are deployed', () => {
  it.each(processes)(
    '%s: a Deployment, a Service on 8080 and a compose service running its target',
    (name) => {
      const container = novaContainerOf(find('Deployment', name));
      expect(container?.args).toEqual(['start', `--target=${name}`]);
      const service = find('Service', name) as { spec: { ports: { port: number }[] } } | undefined;
      expect(service?.spec.ports.map((p) => p.port)).toContain(name === 'gateway' ? 80 : 8080);
      expect(compose.services[name]?.command).toEqual(['start', `--target=${name}`]);
    },
  );

  it.each(modules.map((m) => m.name))('%s: a migrate Job and a compose migrate job', (name) => {
    expect(novaContainerOf(find('Job', `migrate-${name}`))?.args).toEqual(['migrate', `--target=${name}`]);
    expect(compose.services[`migrate-${name}`]?.command).toEqual(['migrate', `--target=${name}`]);
  });

  it('stateless processes scale horizontally; live (RTMP publishes held in the pod) does not', () => {
    const scaled = docs
      .filter(({ doc }) => doc.kind === 'HorizontalPodAutoscaler')
      .map(({ doc }) => (doc.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name)
      .sort();
    expect(scaled).toEqual(processes.filter((p) => p !== 'live').sort());
    for (const name of scaled) expect(find('Deployment', name), name).toBeDefined();
  });

  it('live has its RTMP port on a TCP Service', () => {
    const rtmp = find('Service', 'live-rtmp') as unknown as {
      spec: { type: string; ports: { port: number; protocol: string }[] };
    };
    expect(rtmp.spec.type).toBe('LoadBalancer');
    expect(rtmp.spec.ports).toEqual([expect.objectContaining({ port: 1935, protocol: 'TCP' })]);
    expect(novaContainerOf(find('Deployment', 'live'))?.ports?.map((p) => p.containerPort)).toContain(1935);
  });
});

describe('environment', () => {
  const k8sEnv = novaContainers(docs).map(({ doc, container }) => ({
    where: `${doc.kind} ${doc.metadata.name}`,
    target: targetOf(container.args) as string,
    env: containerEnv(container, docs),
  }));
  const composeEnv = composeNova.map(([name, service]) => ({
    where: `compose ${name}`,
    target: targetOf(service.command) as string,
    env: Object.fromEntries(
      Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v ?? ''))]),
    ),
  }));
  const everyProcess = [...k8sEnv, ...composeEnv];

  it('every variable set on a Nova process is in README’s configuration table and read by its target', () => {
    expect(everyProcess.length).toBeGreaterThan(30);
    const problems: string[] = [];
    for (const { where, target, env } of everyProcess) {
      let read: Set<string> | undefined;
      try {
        read = new Set(configKeys(target).map((k) => k.key));
      } catch {
        read = undefined; // a target outside the module registry (the gateway) declares its keys elsewhere
      }
      for (const key of Object.keys(env)) {
        if (!readme.has(key)) problems.push(`${where}: ${key} is not in README's configuration table`);
        if (read && !read.has(key)) problems.push(`${where}: ${key} is not read by --target=${target}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('each service gets NOVA_<SERVICE>_URL of exactly the services it depends on; the gateway gets all', () => {
    for (const { where, target, env } of everyProcess) {
      const module = MODULES[target];
      const needed = module ? [...module.dependsOn] : modules.map((m) => m.name);
      const given = Object.keys(env).filter(
        (key) => /^NOVA_[A-Z]+_URL$/.test(key) && key !== 'NOVA_PUBLIC_URL',
      );
      expect(given.sort(), where).toEqual(needed.map(urlKey).sort());
      for (const dep of needed) {
        expect(env[urlKey(dep)], where).toBe(`http://${dep}:8080`);
        expect(find('Service', dep), `${where}: Service ${dep}`).toBeDefined();
        expect(compose.services[dep], `${where}: compose ${dep}`).toBeDefined();
      }
    }
  });

  it('each service has its own database and role', () => {
    for (const env of [k8sEnv, composeEnv]) {
      const urls = modules.map((m) => {
        const process = env.find((p) => p.target === m.name && p.env[`${m.name.toUpperCase()}_DATABASE_URL`]);
        return new URL(process?.env[`${m.name.toUpperCase()}_DATABASE_URL`] ?? 'x:');
      });
      expect(urls.map((u) => u.pathname)).toEqual(modules.map((m) => `/nova_${m.name}`));
      expect(urls.map((u) => u.username)).toEqual(modules.map((m) => `nova_${m.name}`));
    }
    // No process holds another service's database.
    for (const { where, target, env } of everyProcess) {
      const databaseKeys = Object.keys(env).filter((k) => k.endsWith('_DATABASE_URL'));
      expect(databaseKeys, where).toEqual(
        target === 'gateway' ? [] : [`${target.toUpperCase()}_DATABASE_URL`],
      );
    }
  });

  it('the config loader accepts every process’s environment once its secrets are filled in', async () => {
    const vapid = webPush.generateVAPIDKeys();
    const real: Record<string, string> = {
      AUTH_SIGNING_KEYS: JSON.stringify([await generateSigningJwk()]),
      AUTH_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      NOVA_INTERNAL_TOKEN: randomBytes(33).toString('base64'),
      WEB_PUSH_VAPID_PUBLIC_KEY: vapid.publicKey,
      WEB_PUSH_VAPID_PRIVATE_KEY: vapid.privateKey,
    };
    for (const { where, target, env } of everyProcess) {
      if (!MODULES[target]) continue;
      const filled = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, real[k] ?? v]));
      expect(() => loadConfig({ ...filled, NOVA_TARGET: target }, CONFIG_COMPOSITION), where).not.toThrow();
    }
  });

  it('the placeholders fail closed: Nova refuses the unfilled secrets in production', () => {
    const auth = k8sEnv.find((p) => p.target === 'auth')?.env as Record<string, string>;
    expect(() => loadConfig({ ...auth, NOVA_TARGET: 'auth' }, CONFIG_COMPOSITION)).toThrow(
      /AUTH_SIGNING_KEYS|NOVA_INTERNAL_TOKEN/,
    );
  });
});

describe('probes and termination', () => {
  const openapi = JSON.parse(readFileSync(new URL('packages/client/openapi.json', ROOT), 'utf8')) as {
    paths: Record<string, { get?: unknown }>;
  };

  it('probe the routes the app serves, on the port the container names', () => {
    for (const { doc, container } of novaContainers(docs)) {
      if (doc.kind === 'Job') continue;
      const probes = [container.startupProbe, container.livenessProbe, container.readinessProbe];
      expect(probes.map((p) => p?.httpGet?.path)).toEqual(['/health/live', '/health/live', '/health/ready']);
      for (const probe of probes) {
        expect(openapi.paths[probe?.httpGet?.path as string]?.get, doc.metadata.name).toBeDefined();
        expect(container.ports?.map((p) => p.name)).toContain(probe?.httpGet?.port);
      }
    }
    const healthchecks = composeNova
      .filter(([, s]) => !s.healthcheck?.disable)
      .map(([, s]) => (s.healthcheck?.test ?? []).join(' '));
    expect(healthchecks.length).toBe(processes.length);
    for (const test of healthchecks) {
      const path = /127\.0\.0\.1:8080(\/[a-z/]+)/.exec(test)?.[1] as string;
      expect(openapi.paths[path]?.get, test).toBeDefined();
    }
  });

  it('pods get longer than Nova’s shutdown deadline to stop', () => {
    const config = find('ConfigMap', 'nova-config') as unknown as { data: Record<string, string> };
    const deadlineSeconds = Number(config.data.NOVA_SHUTDOWN_TIMEOUT_MS) / 1000;
    expect(deadlineSeconds).toBeGreaterThan(0);
    for (const name of processes) {
      const spec = podTemplate(find('Deployment', name) as Doc)?.spec as {
        terminationGracePeriodSeconds: number;
        containers: { lifecycle?: { preStop?: { exec?: { command: string[] } } } }[];
      };
      const preStop = Number(spec.containers[0]?.lifecycle?.preStop?.exec?.command[1] ?? 0);
      expect(spec.terminationGracePeriodSeconds, name).toBeGreaterThan(preStop + deadlineSeconds);
    }
  });
});

describe('generated and shared files', () => {
  it('deploy/k8s matches its generator (run `npm run deploy:generate`)', async () => {
    for (const [file, text] of Object.entries(generatedK8sFiles())) {
      expect(await readFile(new URL(file, K8S), 'utf8'), `stale deploy/k8s/${file}`).toBe(text);
    }
  });

  it('the collector runs the same configuration in compose and Kubernetes', () => {
    const configMap = find('ConfigMap', 'otel-collector') as unknown as { data: Record<string, string> };
    expect(parse(configMap.data['config.yaml'] as string)).toEqual(
      readYaml(new URL('otel-collector.yaml', DEPLOY)),
    );
  });
});
