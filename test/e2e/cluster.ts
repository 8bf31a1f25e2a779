import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NovaDeployment, RunningNova } from './harness.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = path.join(REPO_ROOT, 'scripts', 'cluster.sh');

/** The services scripts/cluster.sh runs, one process each. */
export const CLUSTER_SERVICES = [
  'auth',
  'social',
  'content',
  'messaging',
  'feed',
  'notifications',
  'analytics',
  'live',
] as const;
export type ClusterService = (typeof CLUSTER_SERVICES)[number];

/** The split topology of scripts/cluster.sh, as a deployment the walks drive through its public URL. */
export interface RunningCluster extends NovaDeployment {
  /** The gateway's URL: the one address clients use. */
  publicUrl: string;
  /** What cluster.sh wrote to its cluster.env (ports, engines, names). */
  settings: Record<string, string>;
  /** One process per service (and `gateway`), each stoppable, restartable and killable on its own. */
  processes: Record<ClusterService | 'gateway', RunningNova>;
  /** The PostgreSQL database of one service (nothing else is in it). */
  databaseUrl(service: ClusterService): string;
  /** Stops every process and drops the cluster's databases, keys, bucket and broker. */
  down(): Promise<void>;
}

function cluster(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      SCRIPT,
      args,
      { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 900_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`scripts/cluster.sh ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        else resolve(stdout.trim());
      },
    );
  });
}

function readSettings(file: string): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) settings[line.slice(0, at)] = line.slice(at + 1);
  }
  return settings;
}

/** A live process (a zombie nobody reaped yet has an empty command line: it runs no more). */
function runs(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`).length > 0;
  } catch {
    return false;
  }
}

async function waitGone(pid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * `scripts/cluster.sh up` with `env` added to every process's environment;
 * `name` keeps its databases and keys apart from any other cluster. The
 * deployment's stop() and cleanup() leave it running (several walks share
 * one cluster); down() ends it.
 */
export async function startCluster(name: string, env: Record<string, string>): Promise<RunningCluster> {
  const stateDir = path.join(REPO_ROOT, '.tmp', `cluster-${name}`);
  const clusterEnv = {
    ...env,
    NOVA_CLUSTER_NAME: name,
    NOVA_CLUSTER_STATE: stateDir,
    NOVA_CLUSTER_PORT: '0',
  };
  const run = (...args: string[]) => cluster(args, clusterEnv);
  let publicUrl: string;
  try {
    publicUrl = await run('up');
  } catch (error) {
    await run('down').catch(() => undefined);
    throw error;
  }
  const settings = readSettings(path.join(stateDir, 'cluster.env'));
  const mailDir = settings.MAIL_DIR ?? '';
  const urlOf = (target: string) =>
    target === 'gateway' ? publicUrl : (settings[`URL_${target.toUpperCase()}`] ?? '');

  const handle = (target: ClusterService | 'gateway'): RunningNova => {
    const url = urlOf(target);
    const pid = () => {
      try {
        return Number(readFileSync(path.join(stateDir, 'pids', `${target}.pid`), 'utf8').trim());
      } catch {
        return undefined; // stopped: cluster.sh removed its pid file
      }
    };
    const stop = async () => {
      await run('stop', target);
      return 0;
    };
    return {
      url,
      port: Number(new URL(url).port),
      dataDir: path.join(stateDir, 'data', target),
      mailDir: path.join(stateDir, 'data', target, 'mail'),
      output: () => readFileSync(path.join(stateDir, 'logs', `${target}.log`), 'utf8'),
      pid,
      stop,
      async restart() {
        await run('stop', target);
        await run('start', target);
      },
      async crash() {
        const victim = pid();
        if (victim === undefined) return;
        process.kill(victim, 'SIGKILL');
        await waitGone(victim);
      },
      cleanup: () => undefined,
    };
  };
  const processes = Object.fromEntries(
    [...CLUSTER_SERVICES, ...(settings.GATEWAY === '1' ? (['gateway'] as const) : [])].map((t) => [
      t,
      handle(t),
    ]),
  ) as Record<ClusterService | 'gateway', RunningNova>;

  return {
    publicUrl,
    settings,
    processes,
    mailDir,
    urlFor: (p) => `${publicUrl}${p}`,
    stop: async () => undefined,
    cleanup: () => undefined,
    async restart(services) {
      if (!services) return void (await run('restart'));
      for (const service of services) {
        const before = processes[service as ClusterService]?.pid();
        await run('stop', service);
        // A process `stop` missed would go on answering, and a walk would pass on a restart that never was.
        if (before !== undefined && runs(before))
          throw new Error(`cluster.sh stop ${service} left pid ${before} running`);
        await run('start', service);
      }
    },
    databaseUrl: (service) => {
      const url = settings[`DATABASE_URL_${service.toUpperCase()}`];
      if (!url) throw new Error(`cluster.env names no database for ${service}`);
      return url;
    },
    down: async () => void (await run('down')),
  };
}
