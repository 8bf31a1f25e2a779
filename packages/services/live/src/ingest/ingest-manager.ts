import type { Subscription, Worker, WorkerHealth } from '@nova/kernel';
import { INGEST_LEASE_MS, type IngestCommands } from '../commands/ingest-commands.js';
import { INGEST_END_TOPIC } from '../commands/ingest-control.js';
import type { LiveContext } from '../context.js';
import { HlsPackager } from './hls-packager.js';
import { RtmpListener } from './rtmp-listener.js';
import type { Publication, RtmpPublishSession } from './rtmp-publish-session.js';

const FLV_VIDEO = 9;
/** The RTMP application every ingest URL names (`rtmp://host:port/live/<key>`). */
export const RTMP_APP = 'live';

interface Publisher {
  session: RtmpPublishSession;
  packager: HlsPackager;
}

export interface IngestManager extends Worker {
  /** The port RTMP listens on (known once started when RTMP_PORT is 0). */
  readonly port: number;
}

/**
 * The RTMP ingest of this process. A publish is accepted only for a key of
 * a stream that has not ended and that no other process holds (a lease in
 * the streams table, renewed every few seconds): one process owns a stream's
 * ingest, whichever one the publisher reached. Video arriving turns the
 * stream live; the publisher leaving starts the grace period, after which
 * the stream ends unless a publish resumed it (here or in another process).
 * An end (POST /end, account deletion) reaches the holder over pub/sub and
 * disconnects the publisher; a missed message is caught by the next renewal.
 */
export function createIngestManager(ctx: LiveContext, ingest: IngestCommands): IngestManager {
  const publishers = new Map<string, Publisher>();
  const closing = new Set<Promise<void>>();
  const graceTimers = new Set<NodeJS.Timeout>();
  let port = ctx.settings.rtmp.port;
  let listener: RtmpListener | undefined;
  let control: Subscription | undefined;
  let renewal: NodeJS.Timeout | undefined;
  let lastError: string | undefined;
  let running = false;

  const log = ctx.logger.child({ component: 'rtmp-ingest' });

  const endAfterGrace = () => {
    const timer = setTimeout(() => {
      graceTimers.delete(timer);
      ingest
        .endAbandoned()
        .catch((error: unknown) => log.warn({ err: error }, 'ending abandoned streams failed'));
    }, ctx.settings.endGraceMs + 250);
    timer.unref();
    graceTimers.add(timer);
  };

  const publication = (streamId: string, session: RtmpPublishSession, wasLive: boolean): Publication => {
    let live = wasLive;
    let marking = false;
    const packager = new HlsPackager({
      streamId,
      workDir: ctx.settings.workDir,
      blobs: ctx.blobs,
      logger: log,
      backpressure: (paused) => session.pause(paused),
      onPlaylist: () => undefined,
    });
    publishers.set(streamId, { session, packager });
    return {
      onPacket(packet) {
        packager.write(packet);
        if (live || marking || packet.codec_type !== FLV_VIDEO) return;
        marking = true;
        ingest
          .markLive(streamId)
          .then(
            () => {
              live = true;
              log.info({ streamId }, 'stream is live');
            },
            (error: unknown) =>
              log.warn({ err: error, streamId }, 'marking the stream live failed; retrying'),
          )
          .finally(() => {
            marking = false;
          });
      },
      onClose() {
        if (publishers.get(streamId)?.session === session) publishers.delete(streamId);
        const done = (async () => {
          await packager
            .stop()
            .catch((error: unknown) => log.warn({ err: error, streamId }, 'HLS finish failed'));
          await ingest.release(streamId).catch((error: unknown) => {
            // The lease then runs out and the sweeper ends the stream all the same.
            log.warn({ err: error, streamId }, 'releasing the ingest failed');
          });
          log.info({ streamId }, 'publisher left');
          endAfterGrace();
        })();
        closing.add(done);
        void done.finally(() => closing.delete(done));
      },
    };
  };

  const gate = async (app: string, key: string, session: RtmpPublishSession) => {
    if (app !== RTMP_APP) return undefined;
    const stream = await ingest.claim(key);
    if (!stream) {
      log.info({ remote: session.socket.remoteAddress }, 'publish refused: unknown, ended or held key');
      return undefined;
    }
    if (publishers.get(stream.id)?.session.publishing) {
      log.info({ streamId: stream.id }, 'publish refused: the stream already has a publisher');
      return undefined;
    }
    log.info({ streamId: stream.id }, 'publish accepted');
    return publication(stream.id, session, stream.state === 'live');
  };

  const renew = async () => {
    const ids = [...publishers.keys()];
    if (ids.length === 0) return;
    try {
      const held = await ingest.renew(ids);
      lastError = undefined;
      for (const id of ids) if (!held.has(id)) publishers.get(id)?.session.close();
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
      log.warn({ err: error }, 'renewing ingest leases failed');
    }
  };

  return {
    name: 'live.rtmp-ingest',
    get port() {
      return port;
    },
    async start() {
      listener = new RtmpListener(gate, (error) => log.error({ err: error }, 'publish check failed'));
      port = await listener.listen(ctx.settings.rtmp.port, ctx.settings.rtmp.host);
      control = await ctx.pubsub.subscribe(INGEST_END_TOPIC, (streamId) => {
        publishers.get(streamId)?.session.close();
      });
      renewal = setInterval(() => void renew(), INGEST_LEASE_MS / 3);
      renewal.unref();
      running = true;
      log.info({ port, host: ctx.settings.rtmp.host }, 'RTMP ingest listening');
    },
    async stop(deadline) {
      running = false;
      clearInterval(renewal);
      for (const timer of graceTimers) clearTimeout(timer);
      await control?.unsubscribe().catch(() => undefined);
      // Publishers are cut: each one's HLS is finished and its lease released (another process may take over).
      const drained = (async () => {
        await listener?.close();
        await Promise.all([...closing]);
      })();
      await Promise.race([
        drained,
        new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref()),
      ]);
    },
    health(): WorkerHealth {
      if (!running) return { status: 'down', reason: 'not listening' };
      if (lastError) return { status: 'degraded', reason: `lease renewal failing: ${lastError}` };
      return { status: 'ok', detail: { publishers: publishers.size } };
    },
  };
}
