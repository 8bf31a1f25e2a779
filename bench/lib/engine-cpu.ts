import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { descendants, processCpuMs } from './process-cpu.js';

/** CPU time (ms) a phase cost, by the process that spent it. */
export type EngineCpu = Record<string, number>;

export interface EngineCpuSources {
  /** The server's process (npm start): it and every process below it. */
  serverPid?: number;
  /** PostgreSQL backends of this database (PostgreSQL shape only). */
  postgres?: { adminUrl: string; database: string };
  /** Pid files of engines this run uses alone (e.g. the ClickHouse server). */
  pidFiles?: Record<string, string>;
  /** Pid files of engines shared with other users of the machine: their figure is an upper bound. */
  sharedPidFiles?: Record<string, string>;
}

function pidFrom(file: string): number | undefined {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

async function backendPids(adminUrl: string, database: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1',
      [database],
    );
    return rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

/**
 * Measures what a phase costs each engine in CPU, whatever else runs on the
 * machine: on shared, overloaded cores the rate is our share of the CPU,
 * while CPU per event is a property of the code. Call the returned function
 * at the end of the phase.
 */
export async function startEngineCpuMeter(sources: EngineCpuSources): Promise<() => Promise<EngineCpu>> {
  const serverPids = () =>
    sources.serverPid === undefined ? [] : [sources.serverPid, ...descendants(sources.serverPid)];
  const pids = async (): Promise<Record<string, number[]>> => {
    const found: Record<string, number[]> = { 'nova server (node)': serverPids() };
    if (sources.postgres)
      found['postgresql backends'] = await backendPids(sources.postgres.adminUrl, sources.postgres.database);
    for (const [name, file] of Object.entries(sources.pidFiles ?? {})) found[name] = [pidFrom(file) ?? -1];
    for (const [name, file] of Object.entries(sources.sharedPidFiles ?? {}))
      found[`${name} (shared: upper bound)`] = [pidFrom(file) ?? -1];
    return found;
  };
  const load = process.cpuUsage();
  const before = new Map<number, number>();
  for (const list of Object.values(await pids())) for (const pid of list) before.set(pid, processCpuMs(pid));
  return async () => {
    const spent: EngineCpu = {};
    for (const [name, list] of Object.entries(await pids())) {
      // A process that started during the phase (a PostgreSQL backend) counts from its start.
      spent[name] = list.reduce(
        (sum, pid) => sum + Math.max(0, processCpuMs(pid) - (before.get(pid) ?? 0)),
        0,
      );
    }
    const usage = process.cpuUsage(load);
    spent['load generator (this process)'] = (usage.user + usage.system) / 1000;
    return spent;
  };
}

/** The default state directory of scripts/clickhouse.sh for a server URL's port. */
export function clickhousePidFile(url: string): string {
  const state = process.env.NOVA_CLICKHOUSE_STATE ?? `/tmp/nova-clickhouse-${new URL(url).port || '8123'}`;
  return path.join(state, 'clickhouse.pid');
}
