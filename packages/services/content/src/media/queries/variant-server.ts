import { BlobRangeError, NotFoundError, RangeNotSatisfiableError } from '@nova/kernel';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isVariantName, type Variants } from '../domain/variants.js';
import type { MediaContext } from '../media-context.js';
import { mediaRepository } from '../store/media-repository.js';

export interface VariantServer {
  serve(id: string, name: string, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply>;
}

// A variant's URL names bytes that never change (a new upload is a new id).
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range; several are answered whole, as RFC 9110 allows). */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end?: number } | undefined | 'invalid' {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const [, from, to] = m;
  if (from === '' && to === '') return 'invalid';
  if (from === '') {
    const suffix = Number(to);
    if (suffix === 0) return 'invalid';
    return { start: Math.max(0, size - suffix) };
  }
  const start = Number(from);
  if (to !== '' && Number(to) < start) return 'invalid';
  return { start, ...(to !== '' ? { end: Number(to) } : {}) };
}

/**
 * Streams a variant from the blob store with immutable caching, its ETag
 * (304 when the client has it) and byte ranges. Only variants of ready,
 * not deleted items; the original is not a variant and is never served.
 */
export function createVariantServer(ctx: MediaContext): VariantServer {
  const notFound = () => new NotFoundError('media_not_found', 'No such media variant.');
  return {
    async serve(id, name, request, reply) {
      if (!isVariantName(name)) throw notFound();
      const [row] = await mediaRepository.byIds(ctx.database.db, [id]);
      const variant = row?.status === 'ready' ? (row.variants as Variants)[name] : undefined;
      if (!variant) throw notFound();
      reply.header('cache-control', IMMUTABLE).header('etag', variant.etag).header('accept-ranges', 'bytes');
      const match = request.headers['if-none-match'];
      if (match?.split(',').some((tag) => tag.trim() === variant.etag || tag.trim() === '*')) {
        return reply.code(304).send();
      }
      const range = parseRange(request.headers.range, variant.size);
      if (range === 'invalid') throw new RangeNotSatisfiableError(variant.size);
      try {
        const object = await ctx.blobs.get(variant.key, range);
        reply.type(variant.contentType);
        if (object.range) {
          const { start, end } = object.range;
          reply
            .code(206)
            .header('content-range', `bytes ${start}-${end}/${object.info.size}`)
            .header('content-length', String(end - start + 1));
        } else reply.header('content-length', String(object.info.size));
        return reply.send(object.body);
      } catch (error) {
        if (error instanceof BlobRangeError) throw new RangeNotSatisfiableError(error.size);
        throw error;
      }
    },
  };
}
