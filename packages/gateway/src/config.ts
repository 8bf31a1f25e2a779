import { type Config, defineModuleConfig, EnvInt, moduleSettings, type SettingsOf } from '@nova/kernel';
import { Type } from '@sinclair/typebox';

/** The target that runs the gateway (no service module). */
export const GATEWAY_TARGET = 'gateway';

/**
 * The gateway's own environment variables, read only by `--target=gateway`.
 * Where the services are comes from the kernel's NOVA_<SERVICE>_URL keys;
 * CORS, trusted proxies and Redis from the kernel's keys too.
 */
const GatewayEnv = Type.Object({
  NOVA_GATEWAY_SOCKET_SERVICE: Type.String({
    default: 'messaging',
    minLength: 1,
    description: 'the service whose process holds the realtime sockets (GET /api/v1/ws) behind the gateway',
  }),
  NOVA_GATEWAY_TIMEOUT_MS: EnvInt(
    100,
    3_600_000,
    30_000,
    "longest wait for an upstream's response headers, and between two chunks of its body",
  ),
  NOVA_GATEWAY_TIMEOUTS: Type.String({
    default: '',
    description: 'per-service overrides of NOVA_GATEWAY_TIMEOUT_MS: `content=120000,live=10000`',
  }),
  NOVA_GATEWAY_RETRIES: EnvInt(
    0,
    5,
    2,
    'retries of an idempotent request (GET, HEAD, OPTIONS) whose upstream could not be reached',
  ),
  NOVA_GATEWAY_BREAKER_FAILURES: EnvInt(
    1,
    1000,
    5,
    'consecutive failures to reach an upstream that open its circuit (503 at once)',
  ),
  NOVA_GATEWAY_BREAKER_OPEN_MS: EnvInt(
    100,
    600_000,
    5000,
    'how long an open circuit answers 503 before one request probes the upstream again',
  ),
  NOVA_GATEWAY_RATE_LIMIT_PER_IP: EnvInt(
    0,
    10_000_000,
    600,
    'requests one client IP may make per window (0 = no limit)',
  ),
  NOVA_GATEWAY_RATE_LIMIT_PER_USER: EnvInt(
    0,
    10_000_000,
    1200,
    'requests one authenticated user may make per window (0 = no limit)',
  ),
  NOVA_GATEWAY_RATE_WINDOW_SECONDS: EnvInt(1, 86_400, 60, 'window of both gateway rate limits'),
});

export interface GatewaySettings {
  socketService: string;
  defaultTimeoutMs: number;
  timeouts: Readonly<Record<string, number>>;
  retries: number;
  breaker: { failureThreshold: number; openMs: number };
  rateLimit: { perIp: number; perUser: number; windowSeconds: number };
}

export const gatewayConfig = defineModuleConfig({
  schema: GatewayEnv,
  derive(env, { problem }): GatewaySettings {
    const timeouts: Record<string, number> = {};
    for (const entry of env.NOVA_GATEWAY_TIMEOUTS.split(',')) {
      if (entry.trim() === '') continue;
      const match = /^\s*([a-z][a-z0-9-]*)\s*=\s*(\d+)\s*$/.exec(entry);
      const ms = match ? Number(match[2]) : Number.NaN;
      if (!match?.[1] || !(ms >= 100 && ms <= 3_600_000)) {
        problem('NOVA_GATEWAY_TIMEOUTS', `"${entry.trim()}" is not service=milliseconds (100 to 3600000)`);
        continue;
      }
      timeouts[match[1]] = ms;
    }
    return {
      socketService: env.NOVA_GATEWAY_SOCKET_SERVICE,
      defaultTimeoutMs: env.NOVA_GATEWAY_TIMEOUT_MS,
      timeouts,
      retries: env.NOVA_GATEWAY_RETRIES,
      breaker: {
        failureThreshold: env.NOVA_GATEWAY_BREAKER_FAILURES,
        openMs: env.NOVA_GATEWAY_BREAKER_OPEN_MS,
      },
      rateLimit: {
        perIp: env.NOVA_GATEWAY_RATE_LIMIT_PER_IP,
        perUser: env.NOVA_GATEWAY_RATE_LIMIT_PER_USER,
        windowSeconds: env.NOVA_GATEWAY_RATE_WINDOW_SECONDS,
      },
    };
  },
});

/** What loadConfig composes for the gateway target: its keys, no service keys. */
export const GATEWAY_CONFIGURABLE = { name: GATEWAY_TARGET, config: gatewayConfig };

export type GatewayConfigSettings = SettingsOf<typeof gatewayConfig>;

export function gatewaySettings(config: Config): GatewaySettings {
  return moduleSettings(config, GATEWAY_TARGET, gatewayConfig);
}
