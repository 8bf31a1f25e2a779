import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** ffmpeg pushing a synthetic source (test pattern + sine tone) over RTMP, as an encoder would. */
export interface Publisher {
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
  /** Stops it the way a user stops an encoder (SIGINT: it closes the RTMP session). */
  stop(): Promise<number | null>;
}

export interface PublishOptions {
  video?: 'h264' | 'flv1';
  /** Picture size of the test pattern (default 320x240). */
  size?: string;
  /**
   * Called about every 100 ms with how much media (ms from the first frame)
   * ffmpeg has written to the RTMP connection by then (`-progress`).
   */
  onProgress?: (mediaMs: number) => void;
}

export function publish(url: string, options: PublishOptions = {}): Publisher {
  const video =
    options.video === 'flv1'
      ? ['-c:v', 'flv1', '-g', '25']
      : [
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-tune',
          'zerolatency',
          '-pix_fmt',
          'yuv420p',
          '-g',
          '25',
        ];
  const child = spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-re'],
      ...['-f', 'lavfi', '-i', `testsrc=size=${options.size ?? '320x240'}:rate=25`],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'],
      ...video,
      ...['-c:a', 'aac', '-b:a', '64k'],
      ...(options.onProgress ? ['-progress', 'pipe:1', '-stats_period', '0.1'] : []),
      ...['-f', 'flv', url],
    ],
    { stdio: ['ignore', options.onProgress ? 'pipe' : 'ignore', 'pipe'] },
  );
  if (options.onProgress) followProgress(child, options.onProgress);
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // A server that never answers must fail the test, not hang it: -1 is no exit code ffmpeg gives.
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  void exited.then(() => clearTimeout(guard));
  return {
    child,
    exited,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** ffmpeg's `-progress` report is key=value lines; each block ends with `progress=…`. */
function followProgress(child: ChildProcess, onProgress: (mediaMs: number) => void): void {
  let pending = '';
  let outTimeUs = Number.NaN;
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('out_time_us=')) outTimeUs = Number(line.slice('out_time_us='.length));
      else if (line.startsWith('progress=') && Number.isFinite(outTimeUs) && outTimeUs >= 0)
        onProgress(outTimeUs / 1000);
    }
  });
}

/** The streams ffprobe finds in a file: codec names by type. */
export async function probe(file: string): Promise<{ codec_type: string; codec_name: string }[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file]);
  return (JSON.parse(stdout) as { streams: { codec_type: string; codec_name: string }[] }).streams;
}

/** Decodes every frame of a file; resolves when ffmpeg read it all without an error. */
export async function decode(file: string): Promise<void> {
  await run('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-']);
}
