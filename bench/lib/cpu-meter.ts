import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Kysely, sql } from 'kysely';
import { processCpuMs } from './process-cpu.js';

/** CPU time (ms) spent during a measurement, by the process that spent it. */
export interface CpuSpent {
  /** This Node process (bench + Nova workers). */
  nodeMs: number;
  /** PostgreSQL backends serving this bench's database (sessions alive at the end). */
  postgresMs: number;
  /** The Kafka broker JVM: shared with every other user of the broker, so an upper bound. */
  brokerMs: number;
}

function brokerPid(): number | undefined {
  const state = process.env.NOVA_KAFKA_STATE;
  if (!state) return undefined;
  try {
    return Number(readFileSync(path.join(state, 'kafka.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every backend of the database, the one asking included: it is a pool
 * connection too, and one left out of the first reading but present at the
 * last was charged its whole lifetime (the relay phase of the events bench
 * was charged the outbox inserts that filled it, 2026-12-03).
 */
async function backendPids(db: Kysely<unknown>): Promise<number[]> {
  const { rows } = await sql<{ pid: number }>`
    select pid from pg_stat_activity where datname = current_database()`.execute(db);
  return rows.map((r) => r.pid);
}

/**
 * Measures the CPU a phase costs, whatever else runs on the machine: on a
 * shared, overloaded host the wall-clock rate is this process's share of
 * the CPU, while CPU per event is a property of the code.
 */
export async function startCpuMeter(db: Kysely<unknown>): Promise<() => Promise<CpuSpent>> {
  const node = process.cpuUsage();
  const pids = await backendPids(db);
  const before = new Map(pids.map((pid) => [pid, processCpuMs(pid)]));
  const broker = brokerPid();
  const brokerBefore = broker ? processCpuMs(broker) : 0;
  return async () => {
    const nodeUsage = process.cpuUsage(node);
    let postgresMs = 0;
    for (const pid of await backendPids(db)) postgresMs += processCpuMs(pid) - (before.get(pid) ?? 0);
    return {
      nodeMs: (nodeUsage.user + nodeUsage.system) / 1000,
      postgresMs,
      brokerMs: broker ? processCpuMs(broker) - brokerBefore : 0,
    };
  };
}
