import { mkdirSync, readFileSync } from 'node:fs';
import { createPostgresTestDatabase } from '@nova/kernel/testing';
import { startNova } from '../../test/e2e/harness.js';
import { makePairs, sendLoop, sendOpenLoop } from '../scenarios/messaging.js';

/**
 * Runs the one-process messaging send loop against a server started under
 * `node --cpu-prof`; the profile lands in BENCH_PROFILE_DIR when the server
 * stops. Summarise it with bench/profile/cpuprofile-summary.ts. With
 * BENCH_OPEN_RATE (messages/s) the loop is open at that rate, else closed.
 */
const SENDERS = Number(process.env.BENCH_SENDERS ?? 64);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const OPEN_RATE = process.env.BENCH_OPEN_RATE ? Number(process.env.BENCH_OPEN_RATE) : undefined;
const dir = process.env.BENCH_PROFILE_DIR ?? '/tmp/nova-messaging-profile';
mkdirSync(dir, { recursive: true });

const database = await createPostgresTestDatabase();
const nova = await startNova({
  command: [
    'node',
    ...(process.env.BENCH_NODE_ARGS ?? `--cpu-prof --cpu-prof-dir=${dir}`).split(' ').filter(Boolean),
    '--import',
    'tsx',
    'apps/nova/src/main.ts',
    'start',
    '--target=all',
  ],
  env: {
    DATABASE_URL: database.url,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    ARGON2_MEMORY_KIB: '8192',
    ARGON2_TIME_COST: '1',
    NOVA_TARGET: 'auth,social,messaging',
  },
});
try {
  const pairs = await makePairs(nova, SENDERS);
  const cpu = async () => {
    const text = await (await fetch(`${nova.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('nova_process_cpu_seconds_total '));
    return Number(line?.split(' ').at(-1));
  };
  const signal = (name: NodeJS.Signals) =>
    process.env.BENCH_SIGNALS && process.kill(nova.pid() as number, name);
  const userSys = () => {
    const f = readFileSync(`/proc/${nova.pid()}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return [Number(f[11]) * 10, Number(f[12]) * 10];
  };
  const [user0, sys0] = userSys();
  const before = await cpu();
  signal('SIGUSR2');
  const loop =
    OPEN_RATE === undefined
      ? await sendLoop(nova, nova, pairs, SECONDS * 1000)
      : await sendOpenLoop(nova, nova, pairs, SECONDS * 1000, OPEN_RATE);
  signal('SIGUSR1');
  const cpuMs = ((await cpu()) - before) * 1000;
  const [user1, sys1] = userSys();
  const per = (ms: number) => ms / Math.max(1, loop.delivered);
  console.log(
    `user ms/message ${per((user1 ?? 0) - (user0 ?? 0))}, sys ms/message ${per((sys1 ?? 0) - (sys0 ?? 0))}`,
  );
  console.log(
    JSON.stringify(
      { ...loop, cpuMsPerMessage: cpuMs / Math.max(1, loop.delivered), senders: SENDERS },
      null,
      1,
    ),
  );
} finally {
  await nova.stop();
  nova.cleanup();
  await database.drop();
}
console.log(`profile written to ${dir}`);
