import { spawn } from 'node:child_process';

export interface ToolResult {
  stdout: string;
  stderr: string;
}

/** The tool ran past its time limit and was killed. */
export class ToolTimeoutError extends Error {
  constructor(tool: string, ms: number) {
    super(`${tool} took longer than ${Math.round(ms / 1000)} s`);
    this.name = 'ToolTimeoutError';
  }
}

export class ToolFailedError extends Error {
  constructor(
    tool: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    const last = stderr.trim().split('\n').at(-1) ?? '';
    super(`${tool} failed (exit ${exitCode}): ${last.slice(0, 300)}`);
    this.name = 'ToolFailedError';
  }
}

// Output kept from a tool: ffprobe's JSON is small; ffmpeg's errors are at the end.
const MAX_OUTPUT = 256 * 1024;

/**
 * Runs ffmpeg/ffprobe as a child process with a hard time limit (SIGKILL):
 * a hostile or broken file can make a decoder spin, and it must cost the
 * worker one failed item, never the worker.
 */
export function runTool(command: string, args: readonly string[], timeoutMs: number): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr = (stderr + s).slice(-MAX_OUTPUT);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) reject(new ToolTimeoutError(command, timeoutMs));
      else if (code !== 0) reject(new ToolFailedError(command, code, stderr));
      else resolve({ stdout, stderr });
    });
  });
}
