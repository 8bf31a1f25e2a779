import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BootedNova, bootNova } from '@nova/app/src/boot.js';
import type { AuthApi } from '@nova/contracts';
import { createLogger, loadConfig } from '@nova/kernel';

/** The real app (kernel, auth module, edge, mailer worker) on a free port, for route-level tests. */
export interface AuthServer {
  url: string;
  dataDir: string;
  mailDir: string;
  booted: BootedNova;
  api: AuthApi;
  /** JSON request helper: returns status, headers and parsed body. */
  call(method: string, url: string, options?: CallOptions): Promise<CallResult>;
  /** The `token=` of the newest mail to `to` whose link path contains `pathPart`. */
  mailToken(to: string, pathPart: string, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

export interface CallOptions {
  body?: unknown;
  /** Raw body sent as is (malformed JSON, huge payloads). */
  raw?: string | Buffer;
  token?: string;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  body: any;
}

export interface AuthServerOptions {
  databaseUrl?: string;
  redisUrl?: string;
  redisKeyPrefix?: string;
  env?: Record<string, string>;
}

export async function startAuthServer(options: AuthServerOptions = {}): Promise<AuthServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'nova-auth-test-'));
  const env: Record<string, string> = {
    NOVA_ENV: 'test',
    NOVA_TARGET: 'auth',
    NOVA_DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ARGON2_MEMORY_KIB: '8192',
    ARGON2_TIME_COST: '1',
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...(options.redisUrl
      ? { REDIS_URL: options.redisUrl, REDIS_KEY_PREFIX: options.redisKeyPrefix ?? 'nova-test:' }
      : {}),
    ...options.env,
  };
  const config = loadConfig(env);
  const booted = await bootNova(config, createLogger('silent'), { migrate: true });
  const address = await booted.start();
  const url = address.replace('[::1]', '127.0.0.1');
  const mailDir = path.join(dataDir, 'mail');
  const api = booted.services.auth?.api as AuthApi;

  const call = async (method: string, route: string, callOptions: CallOptions = {}): Promise<CallResult> => {
    const headers: Record<string, string> = { ...callOptions.headers };
    let body: string | Buffer | undefined;
    if (callOptions.raw !== undefined) {
      body = callOptions.raw;
      headers['content-type'] ??= 'application/json';
    } else if (callOptions.body !== undefined) {
      body = JSON.stringify(callOptions.body);
      headers['content-type'] = 'application/json';
    }
    if (callOptions.token) headers.authorization = `Bearer ${callOptions.token}`;
    const response = await fetch(`${url}${route}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed };
  };

  const mailToken = async (to: string, pathPart: string, timeoutMs = 10_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      let files: string[] = [];
      try {
        files = (await readdir(mailDir))
          .filter((f) => f.endsWith('.eml'))
          .sort()
          .reverse();
      } catch {
        // no mail yet
      }
      for (const file of files) {
        const mail = (await readFile(path.join(mailDir, file), 'utf8'))
          .replace(/=\r?\n/g, '')
          .replace(/=3D/g, '=');
        if (!mail.toLowerCase().includes(`to: ${to.toLowerCase()}`)) continue;
        const match = new RegExp(`${pathPart}\\?token=([A-Za-z0-9_-]+)`).exec(mail);
        if (match?.[1]) return match[1];
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no ${pathPart} mail to ${to} within ${timeoutMs} ms`);
  };

  return {
    url,
    dataDir,
    mailDir,
    booted,
    api,
    call,
    mailToken,
    async close() {
      await booted.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
