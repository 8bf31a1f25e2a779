/** A segment as a polling player saw it: where it sits in the media timeline and when it was first listed. */
export interface ListedSegment {
  name: string;
  /** Media time of its first frame: the durations (#EXTINF) of the segments before it. */
  startMs: number;
  durationMs: number;
  /** performance.now() of the first poll whose playlist named it. */
  listedAt: number;
  /** How long fetching it took right after it was listed. */
  fetchMs: number;
  fetchStatus: number;
}

export interface HlsWatch {
  segments: ListedSegment[];
  /** When the first listed segment had been fetched with 200: the stream is playable. */
  playableAt: number | undefined;
  targetDurationS: number | undefined;
  /** Polls until `enough(this)` or the timeout; the playlist 404s until packaging has begun. */
  until(enough: (watch: HlsWatch) => boolean, timeoutMs: number): Promise<void>;
}

/** Parses an HLS media playlist into its segments with cumulative start times. */
export function parsePlaylist(text: string): {
  targetDurationS?: number;
  segments: { name: string; startMs: number; durationMs: number }[];
} {
  const segments: { name: string; startMs: number; durationMs: number }[] = [];
  let targetDurationS: number | undefined;
  let pendingMs: number | undefined;
  let startMs = 0;
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line.startsWith('#EXT-X-TARGETDURATION:')) targetDurationS = Number(line.split(':')[1]);
    else if (line.startsWith('#EXTINF:')) pendingMs = Number.parseFloat(line.slice(8)) * 1000;
    else if (line && !line.startsWith('#') && pendingMs !== undefined) {
      segments.push({ name: line, startMs, durationMs: pendingMs });
      startMs += pendingMs;
      pendingMs = undefined;
    }
  }
  return { targetDurationS, segments };
}

/**
 * Polls a live playlist every `intervalMs` the way a player refreshes it,
 * fetching each newly listed segment once, and notes when each was first
 * seen. The poll interval bounds the timing's resolution.
 */
export function watchHls(playlistUrl: string, intervalMs = 50): HlsWatch {
  const watch: HlsWatch = {
    segments: [],
    playableAt: undefined,
    targetDurationS: undefined,
    async until(enough, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      while (!enough(watch)) {
        if (performance.now() > deadline)
          throw new Error(`playlist ${playlistUrl}: ${watch.segments.length} segments after ${timeoutMs} ms`);
        await poll();
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    },
  };
  const seen = new Set<string>();
  const poll = async () => {
    const response = await fetch(playlistUrl).catch(() => undefined);
    if (response?.status !== 200) return;
    const listedAt = performance.now();
    const { targetDurationS, segments } = parsePlaylist(await response.text());
    watch.targetDurationS = targetDurationS ?? watch.targetDurationS;
    for (const segment of segments) {
      if (seen.has(segment.name)) continue;
      seen.add(segment.name);
      const fetchStarted = performance.now();
      const answer = await fetch(new URL(segment.name, playlistUrl));
      await answer.arrayBuffer();
      const fetchedAt = performance.now();
      if (answer.status === 200) watch.playableAt ??= fetchedAt;
      watch.segments.push({
        ...segment,
        listedAt,
        fetchMs: fetchedAt - fetchStarted,
        fetchStatus: answer.status,
      });
    }
  };
  return watch;
}

/**
 * When the publisher had written media up to `mediaMs`, from its progress
 * samples (wall time, media written), interpolated between the two around it.
 */
export function pushedAt(samples: { at: number; mediaMs: number }[], mediaMs: number): number | undefined {
  const after = samples.findIndex((s) => s.mediaMs >= mediaMs);
  if (after === -1) return undefined;
  const next = samples[after] as { at: number; mediaMs: number };
  const previous = samples[after - 1];
  if (!previous || next.mediaMs === previous.mediaMs) return next.at;
  const share = (mediaMs - previous.mediaMs) / (next.mediaMs - previous.mediaMs);
  return previous.at + share * (next.at - previous.at);
}
