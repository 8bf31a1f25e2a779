import type { TSchema } from '@sinclair/typebox';
import { ANALYTICS_CLIENT_EVENTS_AGGREGATE, analyticsEvents } from './analytics-events.js';
import {
  AUTH_ACCOUNT_MAIL_AGGREGATE,
  AUTH_USER_AGGREGATE,
  authEvents,
  authInternalEvents,
} from './auth-events.js';
import {
  CONTENT_COMMENT_AGGREGATE,
  CONTENT_LIKE_AGGREGATE,
  CONTENT_MENTION_AGGREGATE,
  CONTENT_POST_AGGREGATE,
  contentEvents,
} from './content-events.js';
import { LIVE_STREAM_AGGREGATE, liveEvents } from './live-events.js';
import { CONTENT_MEDIA_AGGREGATE, mediaEvents } from './media-events.js';
import { MESSAGING_MESSAGE_AGGREGATE, messagingEvents } from './messaging-events.js';
import {
  SOCIAL_BLOCK_AGGREGATE,
  SOCIAL_FOLLOW_AGGREGATE,
  SOCIAL_MUTE_AGGREGATE,
  SOCIAL_PROFILE_AGGREGATE,
  socialEvents,
} from './social-events.js';

/**
 * A topic and every event type it carries, with the payload schemas. Typed
 * consumers subscribe to these (the kernel's `typedConsumer`): the catalog is
 * what lets start-up refuse a handler for a type the topic never carries, or
 * a consumer that forgot one of the topic's types.
 */
export interface TopicContract<Events extends Readonly<Record<string, TSchema>> = Record<string, TSchema>> {
  readonly topic: string;
  readonly events: Events;
  /** Only the owning service's consumer groups may read it (nova.<owner>.…); it may carry personal data. */
  readonly internal?: boolean;
}

const topic = <E extends Readonly<Record<string, TSchema>>>(aggregateType: string, events: E) =>
  ({ topic: `nova.${aggregateType}.v1`, events }) as const satisfies TopicContract<E>;
const internalTopic = <E extends Readonly<Record<string, TSchema>>>(aggregateType: string, events: E) =>
  ({ topic: `nova.${aggregateType}.v1`, events, internal: true }) as const satisfies TopicContract<E>;

const pick = <E extends Record<string, TSchema>, K extends keyof E>(events: E, ...types: K[]) =>
  Object.fromEntries(types.map((t) => [t, events[t]])) as Pick<E, K>;

/** nova.auth.user.v1, key = userId. Public: no email, no internal requests. */
export const AUTH_USER_TOPIC = topic(AUTH_USER_AGGREGATE, authEvents);
/** nova.auth.account_mail.v1, key = userId. Internal to auth (the mailer). */
export const AUTH_ACCOUNT_MAIL_TOPIC = internalTopic(AUTH_ACCOUNT_MAIL_AGGREGATE, authInternalEvents);
/** nova.social.profile.v1, key = userId. */
export const SOCIAL_PROFILE_TOPIC = topic(SOCIAL_PROFILE_AGGREGATE, pick(socialEvents, 'profile.updated'));
/** nova.social.follow.v1, key = followerId. */
export const SOCIAL_FOLLOW_TOPIC = topic(
  SOCIAL_FOLLOW_AGGREGATE,
  pick(socialEvents, 'follow.created', 'follow.removed', 'follow.requested'),
);
/** nova.social.block.v1, key = blockerId. */
export const SOCIAL_BLOCK_TOPIC = topic(
  SOCIAL_BLOCK_AGGREGATE,
  pick(socialEvents, 'block.created', 'block.removed'),
);
/** nova.social.mute.v1, key = muterId. */
export const SOCIAL_MUTE_TOPIC = topic(
  SOCIAL_MUTE_AGGREGATE,
  pick(socialEvents, 'mute.created', 'mute.removed'),
);

/** nova.content.post.v1, key = authorId. */
export const CONTENT_POST_TOPIC = topic(
  CONTENT_POST_AGGREGATE,
  pick(contentEvents, 'post.created', 'post.updated', 'post.deleted'),
);
/** nova.content.comment.v1, key = postId. */
export const CONTENT_COMMENT_TOPIC = topic(
  CONTENT_COMMENT_AGGREGATE,
  pick(contentEvents, 'comment.created', 'comment.deleted'),
);
/** nova.content.like.v1, key = postId. */
export const CONTENT_LIKE_TOPIC = topic(
  CONTENT_LIKE_AGGREGATE,
  pick(contentEvents, 'like.created', 'like.removed'),
);
/** nova.content.mention.v1, key = mentionedUserId. */
export const CONTENT_MENTION_TOPIC = topic(CONTENT_MENTION_AGGREGATE, pick(contentEvents, 'mention.created'));
/** nova.content.media.v1, key = mediaId. */
export const CONTENT_MEDIA_TOPIC = topic(CONTENT_MEDIA_AGGREGATE, mediaEvents);
/** nova.live.stream.v1, key = streamId. */
export const LIVE_STREAM_TOPIC = topic(LIVE_STREAM_AGGREGATE, liveEvents);

/** nova.messaging.message.v1, key = conversationId. Metadata only: no ciphertext. */
export const MESSAGING_MESSAGE_TOPIC = topic(MESSAGING_MESSAGE_AGGREGATE, messagingEvents);

/** nova.analytics.client_events.v1, key = userId. Internal to analytics (what users looked at). */
export const ANALYTICS_CLIENT_EVENTS_TOPIC = internalTopic(
  ANALYTICS_CLIENT_EVENTS_AGGREGATE,
  analyticsEvents,
);

/** Every topic Nova publishes. A contract test checks each event type is on exactly one. */
export const EVENT_TOPICS: readonly TopicContract[] = [
  AUTH_USER_TOPIC,
  AUTH_ACCOUNT_MAIL_TOPIC,
  SOCIAL_PROFILE_TOPIC,
  SOCIAL_FOLLOW_TOPIC,
  SOCIAL_BLOCK_TOPIC,
  SOCIAL_MUTE_TOPIC,
  CONTENT_POST_TOPIC,
  CONTENT_COMMENT_TOPIC,
  CONTENT_LIKE_TOPIC,
  CONTENT_MENTION_TOPIC,
  CONTENT_MEDIA_TOPIC,
  MESSAGING_MESSAGE_TOPIC,
  ANALYTICS_CLIENT_EVENTS_TOPIC,
  LIVE_STREAM_TOPIC,
];

/** The topics any service may read. */
export const PUBLIC_EVENT_TOPICS: readonly TopicContract[] = EVENT_TOPICS.filter((t) => !t.internal);
