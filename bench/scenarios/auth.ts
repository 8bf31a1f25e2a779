import { hash } from '@node-rs/argon2';
import { authConfigOf, authModule } from '@nova/auth';
import { loadConfig } from '@nova/kernel';
import { startNova } from '../../test/e2e/harness.js';
import { interleaved, LOAD_GENERATOR } from '../lib/load.js';
import { type BenchReport, machine, median, pairedRatio } from '../lib/report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

/** argon2id hashes per second with the configured (default) parameters, one at a time and 4 in parallel. */
async function argon2Rate(): Promise<{ sequential: number; parallel4: number; params: string }> {
  const { auth } = authConfigOf(loadConfig({}, { modules: [authModule] }));
  const options = { memoryCost: auth.argon2.memoryCost, timeCost: auth.argon2.timeCost, parallelism: 1 };
  const measure = async (parallel: number) => {
    const started = performance.now();
    let done = 0;
    while (performance.now() - started < 3000) {
      await Promise.all(
        Array.from({ length: parallel }, () => hash('correct horse battery staple', options)),
      );
      done += parallel;
    }
    return done / ((performance.now() - started) / 1000);
  };
  await measure(1);
  return {
    sequential: await measure(1),
    parallel4: await measure(4),
    params: `argon2id m=${options.memoryCost} KiB t=${options.timeCost} p=1`,
  };
}

export async function runAuthBench(): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const nova = await startNova({ env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' } });
  try {
    const credentials = {
      email: 'bench@example.com',
      username: 'bench_user',
      password: 'load-test passphrase 2026',
    };
    const registered = await fetch(`${nova.url}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(credentials),
    });
    if (registered.status !== 201)
      throw new Error(`register failed: ${registered.status} ${await registered.text()}`);
    const login = await fetch(`${nova.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: credentials.username, password: credentials.password }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    if (!accessToken) throw new Error('login returned no access token');

    const series = await interleaved(
      [
        { name: 'GET /health/live (baseline)', url: `${nova.url}/health/live` },
        {
          name: 'GET /api/v1/auth/sessions (authenticated)',
          url: `${nova.url}/api/v1/auth/sessions`,
          headers: { authorization: `Bearer ${accessToken}` },
        },
      ],
      { rounds: ROUNDS, durationSeconds: DURATION, connections: CONNECTIONS },
    );
    const [baseline, target] = series as [(typeof series)[0], (typeof series)[0]];
    const argon2 = await argon2Rate();
    return {
      scenario: 'auth',
      startedAt,
      machine: machine(),
      method: `${LOAD_GENERATOR}, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${DURATION} s per series after a warm-up; all-in-one server (\`npm start\`, embedded PGlite and in-process stores, LOG_LEVEL=${process.env.LOG_LEVEL ?? 'warn'}) and the load generator share the machine's cores. Medians of the rounds.`,
      series,
      figures: {
        'authenticated/baseline rps ratio (median of per-round pairs)': pairedRatio(target.rps, baseline.rps),
        'authenticated/baseline rps ratio (ratio of medians)': median(target.rps) / median(baseline.rps),
        'authenticated/baseline p99 ratio': median(target.p99Ms) / median(baseline.p99Ms),
        'argon2 parameters': argon2.params,
        'argon2 hashes/s (sequential)': argon2.sequential,
        'argon2 hashes/s (4 in parallel)': argon2.parallel4,
      },
    };
  } finally {
    await nova.stop();
    nova.cleanup();
  }
}
