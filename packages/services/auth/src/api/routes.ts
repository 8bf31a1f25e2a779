import type { NovaApp, ServiceRoutes } from '@nova/kernel';
import { registerAccountRoutes } from './account-routes.js';
import type { AuthHandlers } from './auth-handlers.js';
import { registerLoginRoutes } from './login-routes.js';
import { registerPasswordRoutes } from './password-routes.js';
import { registerSessionRoutes } from './session-routes.js';
import { registerTokenRoutes } from './token-routes.js';
import { registerTwoFactorRoutes } from './two-factor-routes.js';

/** `api` is mounted under /api/v1 (so /auth/... and DELETE /users/me); `root` at /. */
export function authRoutes(auth: AuthHandlers): ServiceRoutes {
  return {
    api(app: NovaApp) {
      registerAccountRoutes(app, auth);
      registerLoginRoutes(app, auth);
      registerSessionRoutes(app, auth);
      registerPasswordRoutes(app, auth);
      registerTwoFactorRoutes(app, auth);
    },
    root(app: NovaApp) {
      registerTokenRoutes(app, auth);
    },
  };
}
