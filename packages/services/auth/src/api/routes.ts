import type { NovaApp, ServiceRoutes } from '@nova/kernel';
import type { AuthContext } from '../context.js';
import { registerAccountRoutes } from './account-routes.js';
import { registerJwksRoute } from './jwks-route.js';
import { registerLoginRoutes } from './login-routes.js';
import { registerPasswordRoutes } from './password-routes.js';
import { registerRevocationFeedRoute } from './revocation-feed-route.js';
import { registerSessionRoutes } from './session-routes.js';
import { registerTwoFactorRoutes } from './two-factor-routes.js';

/** `api` is mounted under /api/v1 (so /auth/... and DELETE /users/me); `root` at /. */
export function authRoutes(ctx: AuthContext): ServiceRoutes {
  return {
    api(app: NovaApp) {
      registerAccountRoutes(app, ctx);
      registerLoginRoutes(app, ctx);
      registerSessionRoutes(app, ctx);
      registerPasswordRoutes(app, ctx);
      registerTwoFactorRoutes(app, ctx);
    },
    root(app: NovaApp) {
      registerJwksRoute(app, ctx);
      registerRevocationFeedRoute(app, ctx);
    },
  };
}
