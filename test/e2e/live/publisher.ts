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

export function publish(url: string, options: { video?: 'h264' | 'flv1' } = {}): Publisher {
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
      ...['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'],
      ...video,
      ...['-c:a', 'aac', '-b:a', '64k', '-f', 'flv', url],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
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

/** The streams ffprobe finds in a file: codec names by type. */
export async function probe(file: string): Promise<{ codec_type: string; codec_name: string }[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file]);
  return (JSON.parse(stdout) as { streams: { codec_type: string; codec_name: string }[] }).streams;
}

/** Decodes every frame of a file; resolves when ffmpeg read it all without an error. */
export async function decode(file: string): Promise<void> {
  await run('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-']);
}
