import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `nova start` as an orchestrator would run it; resolves with its exit code, output and run time. */
function start(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stderr: string; stdout: string; ms: number }>((resolve) => {
    const started = Date.now();
    const child = spawn('node', ['--import', 'tsx', 'apps/nova/src/main.ts', 'start', ...args], {
      cwd: root,
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...env },
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    // Bounded: a process that hangs instead of refusing fails the test rather than the run.
    const killer = setTimeout(() => child.kill('SIGKILL'), 200_000);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stderr, stdout, ms: Date.now() - started });
    });
  });
}

// Each case starts a real process (tsx, PGlite): minutes on a loaded 2-core machine.
describe('start-up refuses when a required remote dependency stays unreachable', { timeout: 240_000 }, () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nova-refuse-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('exits 1 naming the Kafka brokers it could not reach, after a bounded wait', async () => {
    const brokers = `127.0.0.1:${await deadPort()}`;
    const result = await start([], {
      NOVA_DATA_DIR: dataDir(),
      KAFKA_BROKERS: brokers,
      NOVA_STARTUP_TIMEOUT_MS: '3000',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `nova: refusing to start: cannot reach the event log (Kafka) at ${brokers}`,
    );
    expect(result.stderr).toMatch(/\(\d+ attempts over \d+\.\d s; last error: /);
    // It retried for the configured wait, and then did not hang.
    expect(result.ms).toBeGreaterThan(2500);
    expect(result.ms).toBeLessThan(150_000);
    expect(result.stdout).not.toContain('nova is listening');
  });

  it("exits 1 naming auth's address when --target=social cannot reach the token verifier", async () => {
    const authUrl = `grpc://127.0.0.1:${await deadPort()}`;
    const result = await start(['--target=social'], {
      NOVA_DATA_DIR: dataDir(),
      NOVA_AUTH_URL: authUrl,
      // Required for a split target; the verifier is checked first, so no broker is needed here.
      KAFKA_BROKERS: `127.0.0.1:${await deadPort()}`,
      NOVA_STARTUP_TIMEOUT_MS: '2000',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `nova: refusing to start: cannot reach the token verifier (auth's sync API) at ${authUrl}`,
    );
    expect(result.stdout).not.toContain('nova is listening');
  });
});
