import { UnprocessableError, ValidationError } from '@nova/kernel';

export const POST_TEXT_MAX = 2200;
export const COMMENT_TEXT_MAX = 2200;
export const POST_MEDIA_MAX = 10;
export const HASHTAGS_PER_POST_MAX = 30;
export const HASHTAG_MAX = 100;

/** Length as a reader counts characters: code points, not UTF-16 units. */
export const textLength = (text: string): number => [...text].length;

// A tag is letters, marks, digits and underscores of any script after a '#'
// that does not continue a word (so "a#b" and URLs' fragments are no tags).
const HASHTAG = /(?<![\p{L}\p{M}\p{N}_&#])#([\p{L}\p{M}\p{N}_]+)/gu;
const HAS_LETTER = /\p{L}/u;
// Usernames are auth's: [A-Za-z0-9_], 3-30 characters.
const MENTION = /(?<![\p{L}\p{M}\p{N}_@])@([A-Za-z0-9_]{3,30})(?![A-Za-z0-9_])/gu;

/** Case-insensitive Unicode tags: NFC, then lower case without a locale. */
export function normalizeHashtag(tag: string): string {
  return tag.normalize('NFC').toLowerCase();
}

/** The distinct tags of a text in order of appearance; a tag needs at least one letter. */
export function extractHashtags(text: string): string[] {
  const tags: string[] = [];
  for (const match of text.normalize('NFC').matchAll(HASHTAG)) {
    const tag = normalizeHashtag(match[1] ?? '');
    if (!HAS_LETTER.test(tag) || textLength(tag) > HASHTAG_MAX || tags.includes(tag)) continue;
    tags.push(tag);
    if (tags.length === HASHTAGS_PER_POST_MAX) break;
  }
  return tags;
}

/** The distinct usernames a text mentions (lower case), in order of appearance. */
export function extractMentions(text: string): string[] {
  const names: string[] = [];
  for (const match of text.matchAll(MENTION)) {
    const name = (match[1] ?? '').toLowerCase();
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

export function assertPostText(text: string): void {
  if (textLength(text) > POST_TEXT_MAX)
    throw new ValidationError(`text is longer than ${POST_TEXT_MAX} characters`, [
      { field: 'text', message: `at most ${POST_TEXT_MAX} characters` },
    ]);
}

/** A post needs words or pictures. */
export function assertPostContent(text: string, mediaIds: readonly string[]): void {
  assertPostText(text);
  if (text.trim() === '' && mediaIds.length === 0)
    throw new UnprocessableError('empty_post', 'A post needs text or at least one media item.');
  if (mediaIds.length > POST_MEDIA_MAX)
    throw new UnprocessableError('too_many_media', `A post has at most ${POST_MEDIA_MAX} media items.`);
  if (new Set(mediaIds).size !== mediaIds.length)
    throw new UnprocessableError('duplicate_media', 'A media item appears twice in this post.');
}
