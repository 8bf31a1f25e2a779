import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../packages/kernel/src/testing/outage-servers.js';

const root = path.resolve(import.meta.dirname, '../..');
const SHUTDOWN_TIMEOUT_MS = 3000;
// Process start-up, signal delivery and the exit itself, on a busy 2-core machine.
const SLACK_MS = 3000;

interface Started {
  child: ChildProcess;
  url: string;
  dataDir: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Nova as a child whose stdout is a pipe this test never reads: the log
 * reader "has gone away" while the process lives on. stderr is read so a
 * failure can be explained.
 */
async function startWithUnreadStdout(): Promise<Started & { stderr(): string }> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'nova-shutdown-'));
  const child = spawn('node', ['--import', 'tsx', 'apps/nova/src/main.ts', 'start'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NOVA_ENV: 'development',
      LOG_LEVEL: 'debug',
      HOST: '127.0.0.1',
      PORT: String(port),
      NOVA_DATA_DIR: dataDir,
      NOVA_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    },
  });
  // Never read: a paused stream stops draining the pipe once its own buffer is full.
  child.stdout?.pause();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  // Generous: a cold start on a loaded 2-core machine has taken 90 s.
  const deadline = Date.now() + 240_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nova exited early (${child.exitCode}):\n${stderr}`);
    if (Date.now() > deadline) throw new Error(`nova not ready in time:\n${stderr}`);
    const ready = await fetch(`${url}/health/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, url, dataDir, exited, stderr: () => stderr };
}

/** Enough requests (each logs two lines at debug) to fill the pipe many times over. */
async function flood(url: string, requests: number): Promise<void> {
  const lanes = 16;
  let sent = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (sent < requests) {
        sent++;
        await fetch(`${url}/api/v1/no-such-route?padding=${'p'.repeat(2000)}`, {
          signal: AbortSignal.timeout(2000),
        }).then(
          (r) => r.arrayBuffer(),
          () => undefined, // once the log blocks the event loop, requests hang: that is the point
        );
      }
    }),
  );
}

async function expectExitWithinDeadline(started: Started & { stderr(): string }): Promise<void> {
  const signalled = Date.now();
  started.child.kill('SIGTERM');
  const outcome = await Promise.race([
    started.exited,
    new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), SHUTDOWN_TIMEOUT_MS + SLACK_MS)),
  ]);
  const elapsed = Date.now() - signalled;
  if (outcome === 'hung') started.child.kill('SIGKILL');
  expect(outcome, `still running ${elapsed} ms after SIGTERM; stderr:\n${started.stderr()}`).not.toBe('hung');
  expect(elapsed).toBeLessThan(SHUTDOWN_TIMEOUT_MS + SLACK_MS);
  // Killed by the signal's default action would mean no shutdown ran at all.
  expect((outcome as { signal: unknown }).signal).toBeNull();
}

describe('SIGTERM ends the process within NOVA_SHUTDOWN_TIMEOUT_MS whatever the log pipe does', () => {
  let started: (Started & { stderr(): string }) | undefined;
  afterEach(() => {
    if (started && started.child.exitCode === null) started.child.kill('SIGKILL');
    if (started) rmSync(started.dataDir, { recursive: true, force: true });
    started = undefined;
  });

  it('stdout is a pipe nobody reads any more (full)', async () => {
    started = await startWithUnreadStdout();
    await flood(started.url, 400);
    await expectExitWithinDeadline(started);
  }, 360_000);

  it('stdout reader has closed its end (broken pipe)', async () => {
    started = await startWithUnreadStdout();
    started.child.stdout?.destroy();
    await flood(started.url, 100);
    await expectExitWithinDeadline(started);
  }, 360_000);
});
