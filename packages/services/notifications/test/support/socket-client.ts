import { WebSocket } from 'ws';

export interface Frame {
  channel: string;
  type: string;
  data?: unknown;
  /** When it arrived (Date.now()). */
  at: number;
}

/** A socket of `userId` on GET /api/v1/ws, collecting frames; resolves once the server says ready. */
export async function openSocket(baseUrl: string, token: string) {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/v1/ws`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const frames: Frame[] = [];
  ws.on('message', (data) =>
    frames.push({ ...(JSON.parse(data.toString()) as Omit<Frame, 'at'>), at: Date.now() }),
  );
  ws.on('error', () => undefined);
  const waitFor = async (match: (frame: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const frame = frames.find(match);
      if (frame) return frame;
      if (Date.now() > end)
        throw new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(frames)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  await waitFor((f) => f.channel === 'socket' && f.type === 'ready');
  return { ws, frames, waitFor, close: () => ws.close() };
}
