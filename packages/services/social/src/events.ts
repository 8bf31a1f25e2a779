import {
  type BlockEdgeEvent,
  type FollowEdgeEvent,
  type MuteEdgeEvent,
  type ProfileUpdatedEvent,
  SOCIAL_BLOCK_AGGREGATE,
  SOCIAL_FOLLOW_AGGREGATE,
  SOCIAL_MUTE_AGGREGATE,
  SOCIAL_PROFILE_AGGREGATE,
} from '@nova/contracts';
import type { OutboxEvent } from '@nova/kernel';

/** Typed constructors for the social events, keyed as the contracts say. */
export const socialEvent = {
  profileUpdated: (payload: ProfileUpdatedEvent): OutboxEvent => ({
    aggregateType: SOCIAL_PROFILE_AGGREGATE,
    aggregateId: payload.userId,
    type: 'profile.updated',
    payload,
  }),
  follow: (
    type: 'follow.created' | 'follow.removed' | 'follow.requested',
    edge: FollowEdgeEvent,
  ): OutboxEvent => ({
    aggregateType: SOCIAL_FOLLOW_AGGREGATE,
    aggregateId: edge.followerId,
    type,
    payload: { followerId: edge.followerId, followeeId: edge.followeeId },
  }),
  block: (type: 'block.created' | 'block.removed', edge: BlockEdgeEvent): OutboxEvent => ({
    aggregateType: SOCIAL_BLOCK_AGGREGATE,
    aggregateId: edge.blockerId,
    type,
    payload: edge,
  }),
  mute: (type: 'mute.created' | 'mute.removed', edge: MuteEdgeEvent): OutboxEvent => ({
    aggregateType: SOCIAL_MUTE_AGGREGATE,
    aggregateId: edge.muterId,
    type,
    payload: edge,
  }),
};
