import pino from 'pino';
import sonicBoom from 'sonic-boom';

// A CommonJS module: its class hangs off the default export.
const { SonicBoom } = sonicBoom;

export type Logger = pino.Logger;

/** Log bytes held in memory while stdout does not drain; beyond it lines are dropped, not queued. */
const MAX_BUFFERED_LOG_BYTES = 8 * 1024 * 1024;

interface StdoutDestination {
  write(line: string): void;
  flush(deadline: number): Promise<void>;
}

let destination: StdoutDestination | undefined;

/**
 * The one stdout writer every logger shares. A log line must never block
 * the process: a container whose log reader stopped reading (or went away)
 * once left Nova deaf to SIGTERM for twenty minutes, its main thread stuck
 * in a synchronous write to a full pipe. So:
 * - opening `process.stdout` first makes libuv put a pipe or socket on fd 1
 *   in non-blocking mode (a file stays as it is; a file write never waits on
 *   a reader), so no write, on this thread or the thread pool, can wait
 *   forever;
 * - writes are asynchronous (sonic-boom, batched), retried while the pipe
 *   is full, and dropped beyond MAX_BUFFERED_LOG_BYTES;
 * - a broken pipe (the reader closed it) ends logging instead of raising;
 * - nothing flushes synchronously at exit: shutdown flushes within its
 *   deadline (flushLogs) and then exits.
 */
function stdoutDestination(): StdoutDestination {
  if (destination) return destination;
  void process.stdout;
  const stream = new SonicBoom({ fd: 1, sync: false, maxLength: MAX_BUFFERED_LOG_BYTES });
  let broken = false;
  stream.on('error', () => {
    // EPIPE and friends: nobody will read these lines; stop trying.
    broken = true;
  });
  destination = {
    write(line) {
      if (!broken) stream.write(line);
    },
    flush(deadline) {
      if (broken) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        timer.unref();
        stream.flush(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
  return destination;
}

/** Waits until the buffered log lines are written, or until `deadline` (epoch ms), whichever is first. */
export function flushLogs(deadline: number): Promise<void> {
  return destination ? destination.flush(deadline) : Promise.resolve();
}

/** The one place loggers are made: JSON lines, secrets redacted. */
export function createLogger(
  level: string,
  bindings: Record<string, unknown> = {},
  // Commands whose stdout is their result (nova dlq list --json) log to stderr.
  options: { stderr?: boolean } = {},
): Logger {
  // A short-lived command writes its few lines to stderr directly.
  const stderr = options.stderr ? pino.destination({ fd: 2, sync: true }) : undefined;
  return pino(
    {
      level,
      base: { pid: process.pid, ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          '*.password',
          '*.newPassword',
          '*.currentPassword',
          '*.refreshToken',
          '*.accessToken',
          '*.token',
          '*.code',
          '*.secret',
        ],
        censor: '[redacted]',
      },
    },
    stderr ?? stdoutDestination(),
  );
}
