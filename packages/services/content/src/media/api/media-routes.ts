import type { Media } from '@nova/contracts';
import { MediaSchema } from '@nova/contracts';
import { errorResponses, type NovaApp, requirePrincipal } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import type { UploadMedia } from '../commands/upload-media.js';
import type { MediaQueries } from '../queries/media-queries.js';
import type { VariantServer } from '../queries/variant-server.js';
import { withUploadedFile } from './multipart-upload.js';

export interface MediaHandlers {
  upload: UploadMedia;
  queries: MediaQueries;
  variants: VariantServer;
  maxBytes: number;
}

const MediaIdParam = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
});
const VariantParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
  name: Type.String({ minLength: 1, maxLength: 32 }),
});

/** POST /media, GET /media/{id}, and the variants themselves (when the blob store has no presigned URLs). */
export async function registerMediaRoutes(app: NovaApp, media: MediaHandlers): Promise<void> {
  await app.register(async (scope) => {
    // The body stays a stream: the handler hands it to the blob store part by part.
    scope.addContentTypeParser('multipart/form-data', (_request, _payload, done) => done(null));
    scope.post(
      '/media',
      {
        schema: {
          tags: ['media'],
          summary: 'Upload one image or video',
          description:
            'multipart/form-data with one file part. The type is read from the bytes (415 otherwise); over MEDIA_MAX_BYTES: 413. Processing follows: poll GET /media/{id}.',
          consumes: ['multipart/form-data'],
          response: {
            202: Type.Object({ id: Type.String(), status: Type.Literal('processing') }),
            ...errorResponses(400, 401, 413, 415),
          },
        },
      },
      async (request, reply) => {
        const { userId } = requirePrincipal(request);
        const created = await withUploadedFile(request, reply, media.maxBytes, (file) =>
          media.upload(userId, file),
        );
        return reply.code(202).send(created);
      },
    );
  });

  app.get(
    '/media/:id',
    {
      schema: {
        tags: ['media'],
        summary: 'One media item',
        description:
          'Its uploader sees it in any state (with the reason when it failed); others once it is ready.',
        params: MediaIdParam,
        response: { 200: MediaSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request): Promise<Media> =>
      media.queries.getOne(request.params.id, requirePrincipal(request).userId),
  );

  app.get(
    '/media/:id/variants/:name',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['media'],
        summary: 'The bytes of one variant',
        description:
          'Immutable: long-lived cache headers and an ETag (304 on If-None-Match); byte ranges (206/416) for video. The original upload is never served.',
        params: VariantParams,
        produces: ['image/webp', 'video/mp4'],
      },
    },
    async (request, reply) => media.variants.serve(request.params.id, request.params.name, request, reply),
  );
}
