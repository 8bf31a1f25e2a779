import { readFileSync } from 'node:fs';
import type { RouteAuth } from '@nova/kernel';

/** One public route and the service whose process serves it (`null`: the realtime socket). */
export interface GatewayRoute {
  service: string | null;
  method: string;
  /** Fastify's pattern, prefix included (`/api/v1/posts/:id`). */
  url: string;
  auth: RouteAuth;
  acceptQueryToken: boolean;
}

// Edge-to-service plumbing (auth's revocation feed): the gateway reads it from auth itself, clients never.
const INTERNAL_PREFIX = '/internal/';

/**
 * The routes the modules register, as `npm run client:generate` recorded
 * them from a boot of every module (a test fails while the file is stale):
 * the gateway keeps no list of paths of its own.
 */
export function loadRouteTable(
  file = new URL('./generated/routes.json', import.meta.url),
): readonly GatewayRoute[] {
  const routes = JSON.parse(readFileSync(file, 'utf8')) as GatewayRoute[];
  return routes.filter((route) => !route.url.startsWith(INTERNAL_PREFIX));
}
