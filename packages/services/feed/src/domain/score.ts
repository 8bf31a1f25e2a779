/**
 * The ranked feed's score (ADR 023). Each component lies in [0, 1]; the score
 * is their weighted sum. It depends only on the post's stored state, the
 * viewer's engagement history and the anchor instant, so one state ranks the
 * same way every time.
 *
 * - recency: exp(−age / 18 h) — a day-old post keeps about a quarter of it;
 * - velocity: engagement (likes + 2 × comments) in the 6 h before the anchor,
 *   log-scaled, saturating at 100;
 * - affinity: how often the viewer liked or commented on the author's posts,
 *   log-scaled, saturating at 20 (the viewer's own posts count as full);
 * - media: 1 when the post carries photos or video.
 */
export const SCORE_WEIGHTS = { recency: 0.5, velocity: 0.25, affinity: 0.2, media: 0.05 } as const;
export const RECENCY_TAU_MS = 18 * 3_600_000;
export const VELOCITY_WINDOW_MS = 6 * 3_600_000;
const VELOCITY_SATURATION = 100;
const AFFINITY_SATURATION = 20;

export interface ScoreInput {
  createdAtMs: number;
  hasMedia: boolean;
  /** Likes + 2 × comments within VELOCITY_WINDOW_MS before the anchor. */
  recentEngagement: number;
  /** The viewer's likes and comments on this author's posts. */
  viewerEngagementWithAuthor: number;
  ownPost: boolean;
}

export interface ScoreComponents {
  recency: number;
  velocity: number;
  affinity: number;
  media: number;
  score: number;
}

const saturatingLog = (value: number, saturation: number): number =>
  Math.min(1, Math.log1p(Math.max(0, value)) / Math.log1p(saturation));

/** Rounded to 1e-9 so a score survives a cursor's JSON round trip exactly. */
const round = (value: number): number => Math.round(value * 1e9) / 1e9;

export function scorePost(input: ScoreInput, anchorMs: number): ScoreComponents {
  const ageMs = Math.max(0, anchorMs - input.createdAtMs);
  const recency = round(Math.exp(-ageMs / RECENCY_TAU_MS));
  const velocity = round(saturatingLog(input.recentEngagement, VELOCITY_SATURATION));
  const affinity = round(
    input.ownPost ? 1 : saturatingLog(input.viewerEngagementWithAuthor, AFFINITY_SATURATION),
  );
  const media = input.hasMedia ? 1 : 0;
  const score = round(
    SCORE_WEIGHTS.recency * recency +
      SCORE_WEIGHTS.velocity * velocity +
      SCORE_WEIGHTS.affinity * affinity +
      SCORE_WEIGHTS.media * media,
  );
  return { recency, velocity, affinity, media, score };
}

/** Highest score first; ties by the larger (newer) post id, so the order is total. */
export function byScore(a: { score: number; postId: string }, b: { score: number; postId: string }): number {
  if (a.score !== b.score) return b.score - a.score;
  return a.postId < b.postId ? 1 : a.postId > b.postId ? -1 : 0;
}
