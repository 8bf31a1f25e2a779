import type { WebSocket } from 'ws';
import { openSocket } from './sockets.js';

export interface FanoutResult {
  viewers: number;
  joinMs: number;
  /** stream.viewers frames the viewers received while they joined (each join is announced to the room). */
  countFramesWhileJoining: number;
  messages: number;
  /** Send → frame on one viewer's socket, every (message, viewer) pair delivered. */
  deliveryMs: number[];
  /** Send → the last viewer had it, per message fully delivered. */
  allViewersMs: number[];
  undelivered: number;
  /** The server's CPU ms from the first chat send until the last delivery (or the wait's end). */
  chatCpuMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `viewers` sockets join a stream's room (tokens used round-robin), then
 * one more joined socket sends `messages` chat lines `intervalMs` apart;
 * every viewer's socket notes when each line arrives. Frames are matched
 * by a substring, not parsed, so the clients' own cost stays small: they
 * share the machine with the server.
 */
export async function chatFanout(options: {
  baseUrl: string;
  streamId: string;
  viewerTokens: string[];
  senderToken: string;
  viewers: number;
  messages: number;
  intervalMs: number;
  /** The server's CPU time so far, in ms. */
  serverCpuMs: () => number;
}): Promise<FanoutResult> {
  const { baseUrl, streamId, viewers, messages } = options;
  const join = JSON.stringify({ channel: 'stream', type: 'join', data: { streamId } });
  const sentAt: number[] = [];
  const arrivals: number[][] = Array.from({ length: messages }, () => []);
  let countFrames = 0;
  let lastCountFrameAt = performance.now();
  const sockets: WebSocket[] = [];
  const joinOne = async (token: string, listen: boolean) => {
    const ws = await openSocket(baseUrl, token);
    sockets.push(ws);
    const joined = new Promise<void>((resolve) => {
      ws.on('message', (data) => {
        const text = String(data);
        const at = performance.now();
        if (text.includes('"stream.viewers"')) {
          countFrames++;
          lastCountFrameAt = at;
          resolve();
          return;
        }
        if (!listen) return;
        const match = /"text":"fanout-(\d+)"/.exec(text);
        if (match) arrivals[Number(match[1])]?.push(at);
      });
    });
    ws.send(join);
    await joined;
    return ws;
  };
  try {
    const sender = await joinOne(options.senderToken, false);
    countFrames = 0;
    const joinStarted = performance.now();
    for (let i = 0; i < viewers; i += 50)
      await Promise.all(
        Array.from({ length: Math.min(50, viewers - i) }, (_, j) =>
          joinOne(options.viewerTokens[(i + j) % options.viewerTokens.length] as string, true),
        ),
      );
    // Joined once each socket saw a count; the announcements still in flight settle before chat starts.
    while (performance.now() - lastCountFrameAt < 1000) await sleep(200);
    const joinMs = performance.now() - joinStarted;
    const countFramesWhileJoining = countFrames;

    const cpuBefore = options.serverCpuMs();
    for (let n = 0; n < messages; n++) {
      sentAt[n] = performance.now();
      sender.send(
        JSON.stringify({ channel: 'stream.chat', type: 'send', data: { streamId, text: `fanout-${n}` } }),
      );
      await sleep(options.intervalMs);
    }
    const deadline = performance.now() + 15_000;
    while (arrivals.some((a) => a.length < viewers) && performance.now() < deadline) await sleep(100);
    const chatCpuMs = options.serverCpuMs() - cpuBefore;

    const deliveryMs: number[] = [];
    const allViewersMs: number[] = [];
    let undelivered = 0;
    arrivals.forEach((times, n) => {
      const start = sentAt[n] as number;
      for (const at of times) deliveryMs.push(at - start);
      undelivered += viewers - times.length;
      if (times.length === viewers) allViewersMs.push(Math.max(...times) - start);
    });
    return {
      viewers,
      joinMs,
      countFramesWhileJoining,
      messages,
      deliveryMs,
      allViewersMs,
      undelivered,
      chatCpuMs,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
  }
}
