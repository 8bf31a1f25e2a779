import { CONTENT_MEDIA_AGGREGATE, type MediaReadyEvent, type MediaUploadedEvent } from '@nova/contracts';
import type { OutboxEvent } from '@nova/kernel';

/** Typed constructors for the media events, keyed by media id (one item's events stay in order). */
export const mediaEvent = {
  uploaded: (payload: MediaUploadedEvent): OutboxEvent => ({
    aggregateType: CONTENT_MEDIA_AGGREGATE,
    aggregateId: payload.mediaId,
    type: 'media.uploaded',
    payload,
  }),
  ready: (payload: MediaReadyEvent): OutboxEvent => ({
    aggregateType: CONTENT_MEDIA_AGGREGATE,
    aggregateId: payload.mediaId,
    type: 'media.ready',
    payload,
  }),
};
