import { WebSocket } from 'ws';

/** Opens a realtime socket (GET /api/v1/ws) and resolves once the server's `ready` frame arrived. */
export function openSocket(baseUrl: string, token: string, deviceId?: string): Promise<WebSocket> {
  const url = new URL('/api/v1/ws', baseUrl.replace(/^http/, 'ws'));
  if (deviceId) url.searchParams.set('deviceId', deviceId);
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  return new Promise((resolve, reject) => {
    ws.on('message', function ready(data) {
      if (String(data).includes('"ready"')) {
        ws.off('message', ready);
        resolve(ws);
      }
    });
    ws.once('error', reject);
  });
}
