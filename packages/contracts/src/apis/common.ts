import { Type } from '@sinclair/typebox';

/** Ids are opaque strings (API.md); bounded so one call cannot ask for the world. */
export const Id = Type.String({ minLength: 1, maxLength: 128 });

/** Batch methods take up to this many ids per call (no N+1, no unbounded IN lists). */
export const MAX_BATCH_IDS = 1000;
export const BatchIds = Type.Array(Id, { maxItems: MAX_BATCH_IDS });
