import type { NovaApp } from '../http/app.js';

const IDLE_SWEEP_MS = 50;

/**
 * Stops accepting connections and lets in-flight requests finish (new ones
 * on kept-alive sockets get 503 meanwhile); whatever is still open at the
 * deadline is cut.
 */
export async function closeHttpServer(app: NovaApp, deadline: number): Promise<void> {
  // Node closes idle keep-alive sockets once, when close() starts; a socket
  // whose request finishes later would otherwise linger until the deadline.
  const sweep = setInterval(() => app.server.closeIdleConnections(), IDLE_SWEEP_MS);
  const force = setTimeout(() => app.server.closeAllConnections(), Math.max(0, deadline - Date.now()));
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
    clearTimeout(force);
  }
}
