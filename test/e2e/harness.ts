import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface RunningNova {
  url: string;
  port: number;
  dataDir: string;
  mailDir: string;
  /** Everything the process printed so far (JSON log lines). */
  output(): string;
  /** SIGTERM (as an orchestrator would), wait for exit; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** stop() then start again on the same port and data dir. */
  restart(): Promise<void>;
  /** SIGKILL, as a crashed machine: no shutdown runs (sockets are never closed by it). */
  crash(): Promise<void>;
  /** Deletes the data dir (after stop). */
  cleanup(): void;
  /** The launched command's process id (the leader of its process group), while it runs. */
  pid(): number | undefined;
}

export interface StartOptions {
  env?: Record<string, string>;
  dataDir?: string;
  /** Default `npm start` — exactly what a user runs. */
  command?: string[];
  readyTimeoutMs?: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts Nova the way a user does (`npm start`) on a free port and a fresh data dir. */
export async function startNova(options: StartOptions = {}): Promise<RunningNova> {
  const port = Number(options.env?.PORT ?? (await freePort()));
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'nova-e2e-'));
  const url = `http://127.0.0.1:${port}`;
  const command = options.command ?? ['npm', 'start', '--silent'];
  let child: ChildProcess | undefined;
  let output = '';

  const launch = async () => {
    const [bin, ...args] = command;
    child = spawn(bin as string, args, {
      cwd: REPO_ROOT,
      // Its own process group, so stop() signals npm and node together like a terminal would.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NOVA_ENV: 'development',
        LOG_LEVEL: 'info',
        // Live's RTMP ingest on a free port: suites run side by side (a suite names one to publish to it).
        RTMP_PORT: '0',
        HOST: '127.0.0.1',
        PORT: String(port),
        NOVA_DATA_DIR: dataDir,
        NOVA_PUBLIC_URL: url,
        // Suites and benchmarks sign many accounts up from 127.0.0.1.
        REGISTER_MAX_PER_IP: '1000000',
        ...options.env,
      },
    });
    // Keep the tail only: a benchmark run logs millions of lines.
    const append = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length > 2_000_000) output = output.slice(-1_000_000);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    try {
      await waitUntilReady(
        url,
        options.readyTimeoutMs ?? 90_000,
        () => child?.exitCode ?? null,
        () => output,
      );
    } catch (error) {
      // Never leave a half-started server behind: the caller has no handle to stop it.
      await stop();
      throw error;
    }
  };

  const stop = async (): Promise<number | null> => {
    const running = child;
    // A child ended by a signal has a null exitCode but a signalCode: it is gone all the same.
    if (!running || running.exitCode !== null || running.signalCode !== null || running.pid === undefined)
      return running?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => running.once('exit', (code) => resolve(code)));
    process.kill(-running.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (running.pid !== undefined && running.exitCode === null) process.kill(-running.pid, 'SIGKILL');
    }, 40_000);
    const code = await exited;
    // npm may exit before the node process it started: wait for the whole group to be gone,
    // so nothing writes to the data dir once stop() resolves.
    await waitForGroupExit(running.pid, 40_000);
    clearTimeout(timer);
    return code;
  };

  await launch();
  return {
    url,
    port,
    dataDir,
    mailDir: path.join(dataDir, 'mail'),
    output: () => output,
    stop,
    async restart() {
      await stop();
      await launch();
    },
    async crash() {
      const running = child;
      if (!running?.pid || running.exitCode !== null || running.signalCode !== null) return;
      process.kill(-running.pid, 'SIGKILL');
      await waitForGroupExit(running.pid, 40_000);
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    },
    pid: () => child?.pid,
  };
}

async function waitForGroupExit(pgid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return; // ESRCH: no process of the group is left
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  process.kill(-pgid, 'SIGKILL');
}

async function waitUntilReady(
  url: string,
  timeoutMs: number,
  exitCode: () => number | null,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // The last lines hold the reason (test runners cut long messages short).
    if (exitCode() !== null)
      throw new Error(`nova exited with ${exitCode()} before it was ready:\n${tail(output())}`);
    try {
      const response = await fetch(`${url}/health/ready`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`nova was not ready within ${timeoutMs} ms:\n${tail(output())}`);
}

const tail = (text: string, lines = 25): string => text.trimEnd().split('\n').slice(-lines).join('\n');

/** The .eml files written so far, oldest first. */
export function readMails(mailDir: string): string[] {
  let files: string[];
  try {
    files = readdirSync(mailDir).filter((f) => f.endsWith('.eml'));
  } catch {
    return [];
  }
  return files.sort().map((f) => readFileSync(path.join(mailDir, f), 'utf8'));
}

/** Waits for a mail to `to` whose text contains `marker`; returns the `token=` value of its link. */
export async function waitForMailToken(
  mailDir: string,
  to: string,
  marker: string,
  timeoutMs = 15_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const mail of readMails(mailDir).reverse()) {
      const unfolded = mail.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
      if (!unfolded.toLowerCase().includes(`to: ${to.toLowerCase()}`) || !unfolded.includes(marker)) continue;
      const match = /token=([A-Za-z0-9_-]+)/.exec(unfolded);
      if (match?.[1]) return match[1];
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail to ${to} containing "${marker}" within ${timeoutMs} ms`);
}

/** Runs one `nova <args>` command to completion (operator commands: migrate, seed, dlq). */
export function runNovaCommand(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn('node', ['--import', 'tsx', 'apps/nova/src/main.ts', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    });
    let stderr = '';
    let stdout = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.on('exit', (code) => resolve({ code, stderr, stdout }));
  });
}

/**
 * A deployment shape as a client sees it: one process (`npm start`), or one
 * process per service (`nova start --target=<service>`), each path answered
 * by the process that serves it (there is no gateway yet).
 */
export interface NovaDeployment {
  /** The full URL a client uses for `method path` (e.g. `POST /api/v1/auth/login`). */
  urlFor(path: string, method?: string): string;
  /** Where the auth process writes its mail. */
  mailDir: string;
  /** The processes by target (`all`, or `auth` and `social`). */
  processes: Record<string, RunningNova>;
  stop(): Promise<void>;
  /**
   * Stops every process, then starts them again in dependency order (auth first). `services`:
   * where each service has a process of its own, only theirs (what the walk restarts for);
   * a deployment with fewer processes restarts every one.
   */
  restart(services?: string[]): Promise<void>;
  cleanup(): void;
}

/** What auth serves (path prefixes, and account deletion); every other API path belongs to social. */
const AUTH_PATHS = ['/api/v1/auth', '/.well-known/', '/internal/auth'];
const servedByAuth = (path: string, method: string) =>
  AUTH_PATHS.some((prefix) => path.startsWith(prefix)) ||
  (method.toUpperCase() === 'DELETE' && path.split('?')[0] === '/api/v1/users/me');

/**
 * Starts the shape: one process, or — `split` — auth, then social with
 * NOVA_AUTH_URL naming auth's gRPC address, so social reaches auth only over
 * the network binding.
 */
export async function startDeployment(
  env: Record<string, string>,
  options: { split?: boolean } = {},
): Promise<NovaDeployment> {
  if (!options.split) {
    const nova = await startNova({ env });
    return {
      urlFor: (p) => `${nova.url}${p}`,
      mailDir: nova.mailDir,
      processes: { all: nova },
      stop: async () => void (await nova.stop()),
      restart: () => nova.restart(),
      cleanup: () => nova.cleanup(),
    };
  }
  // As an operator would: migrate each service's database before starting it.
  for (const target of ['auth', 'social']) {
    const migrated = await runNovaCommand(['migrate', `--target=${target}`], env);
    if (migrated.code !== 0) throw new Error(`nova migrate --target=${target} failed:\n${migrated.stderr}`);
  }
  const nova = (target: string, extra: Record<string, string>) =>
    startNova({
      env: { ...env, ...extra },
      command: ['npm', 'run', '--silent', 'nova', '--', 'start', `--target=${target}`],
    });
  const authGrpc = await freePort();
  const auth = await nova('auth', { NOVA_GRPC_PORT: String(authGrpc) });
  let social: RunningNova;
  try {
    social = await nova('social', {
      NOVA_GRPC_PORT: String(await freePort()),
      NOVA_AUTH_URL: `grpc://127.0.0.1:${authGrpc}`,
    });
  } catch (error) {
    await auth.stop();
    auth.cleanup();
    throw error;
  }
  const processes = { auth, social };
  const stop = async () => {
    await social.stop();
    await auth.stop();
  };
  return {
    urlFor: (p, method = 'GET') => `${servedByAuth(p, method) ? auth.url : social.url}${p}`,
    mailDir: auth.mailDir,
    processes,
    stop,
    async restart() {
      await stop();
      await auth.restart();
      await social.restart();
    },
    cleanup() {
      auth.cleanup();
      social.cleanup();
    },
  };
}

export interface SignedUp {
  id: string;
  username: string;
  /** The access token of the first login. */
  token: string;
}

/** An API answer as the walks read it: status, headers, raw text and the parsed JSON body ({} when empty). */
export interface ApiAnswer<Body = Record<string, unknown>> {
  status: number;
  headers: Headers;
  text: string;
  body: Body;
}

/**
 * `call(method, path under /api/v1, token?, body?)` against the process
 * `urlFor` names; `Body` is how the walk reads answers (the caller's claim, not checked).
 */
export function apiCaller<Body = Record<string, unknown>>(urlFor: (path: string, method: string) => string) {
  return async (method: string, path: string, token?: string, body?: unknown): Promise<ApiAnswer<Body>> => {
    const response = await fetch(urlFor(`/api/v1${path}`, method), {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text,
      body: (text ? JSON.parse(text) : {}) as Body,
    };
  };
}

/**
 * Polls `probe` until `ok` holds of its value (an effect arriving through the
 * event log) and returns that value; throws with the last value after `timeoutMs`.
 */
export async function pollUntil<T>(
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reached in time; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * What a new client does before it uses the graph: registers `username`,
 * logs in, and waits until social has the profile (auth's user.registered
 * event reached it). `urlFor` maps an API path to the process serving it.
 */
/** The password `signUp` gives every account (tests re-authenticate with it). */
export const E2E_PASSWORD = 'correct horse battery staple';

export async function signUp(
  urlFor: (path: string, method: string) => string,
  username: string,
  timeoutMs = 30_000,
): Promise<SignedUp> {
  const password = E2E_PASSWORD;
  const call = apiCaller(urlFor);
  const send = (method: string, path: string, body?: unknown, token?: string) =>
    call(method, path, token, body);
  const expectStatus = (answer: { status: number; text: string }, status: number, step: string) => {
    if (answer.status !== status)
      throw new Error(`${step} of ${username}: ${answer.status} (expected ${status}): ${answer.text}`);
  };
  const registered = await send('POST', '/auth/register', {
    email: `${username}@example.test`,
    username,
    password,
  });
  expectStatus(registered, 201, 'sign-up');
  const login = await send('POST', '/auth/login', { login: username, password });
  expectStatus(login, 200, 'login');
  const token = login.body.accessToken as string;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const me = await send('GET', '/users/me', undefined, token);
    if (me.status === 200) return { id: me.body.id as string, username, token };
    if (Date.now() > deadline)
      throw new Error(`the profile of ${username} never appeared: ${me.status} ${me.text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The development secrets a process generated under its data dir, as the
 * environment a second process of the same deployment takes (tokens signed
 * by one verify on the other, as AUTH_SIGNING_KEYS does in production).
 */
export function sharedSecretsOf(nova: RunningNova): Record<string, string> {
  const keys = path.join(nova.dataDir, 'keys');
  return {
    AUTH_SIGNING_KEYS: readFileSync(path.join(keys, 'signing-keys.json'), 'utf8'),
    AUTH_ENCRYPTION_KEY: readFileSync(path.join(keys, 'encryption.key'), 'utf8').trim(),
  };
}

/** The /health/ready checks of every process of a deployment, merged (its proof of what it runs on). */
export async function readyChecksOf(nova: NovaDeployment): Promise<Record<string, unknown>> {
  const checks: Record<string, unknown> = {};
  for (const running of Object.values(nova.processes)) {
    const ready = await fetch(`${running.url}/health/ready`);
    Object.assign(checks, ((await ready.json()) as { checks: Record<string, unknown> }).checks);
  }
  return checks;
}

/** The /metrics text of every process of a deployment, one after the other (a sum over lines adds them up). */
export async function metricsOf(nova: NovaDeployment): Promise<string> {
  const texts = await Promise.all(
    Object.values(nova.processes).map(async (running) => (await fetch(`${running.url}/metrics`)).text()),
  );
  return texts.join('\n');
}
