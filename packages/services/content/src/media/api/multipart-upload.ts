import { Busboy, type BusboyFileStream, type BusboyInstance } from '@fastify/busboy';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '@nova/kernel';
import type { FastifyReply, FastifyRequest } from 'fastify';

// Multipart framing around the file (boundaries, part headers, a small field or two).
const MULTIPART_SLACK = 64 * 1024;
// After refusing an upload, at most this much more of its body is read (and
// thrown away) so that the client, still sending, reads our answer instead
// of a reset connection; beyond it the connection is closed.
export const DRAIN_LIMIT = 8 * 1024 * 1024;

const tooLarge = (maxBytes: number) =>
  new PayloadTooLargeError('media_too_large', `The file is larger than the limit of ${maxBytes} bytes.`);

/** The file part as a stream that fails (instead of ending short) when it passes the size limit. */
async function* guarded(stream: BusboyFileStream, maxBytes: number): AsyncGenerator<Buffer> {
  let limited = false;
  stream.once('limit', () => {
    limited = true;
  });
  for await (const chunk of stream) {
    if (limited) break;
    yield chunk as Buffer;
  }
  if (limited || stream.truncated) throw tooLarge(maxBytes);
}

/**
 * Reads the rest of a refused request's body, up to DRAIN_LIMIT, and asks
 * for the connection to be closed after the answer: an ordinary client
 * (fetch, a browser) that is still sending then reads the 4xx instead of a
 * reset. A body larger than the limit gets its socket closed once our answer
 * is out.
 */
export function drainRefused(request: FastifyRequest, reply: FastifyReply): void {
  const raw = request.raw;
  reply.header('connection', 'close');
  if (raw.readableEnded) return;
  let seen = 0;
  const cut = () => raw.socket?.destroy();
  raw.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen <= DRAIN_LIMIT) return;
    raw.removeAllListeners('data');
    raw.pause();
    if (reply.raw.writableFinished) cut();
    else reply.raw.once('finish', cut);
  });
  raw.on('error', () => undefined);
  raw.resume();
}

/**
 * Runs `consume` on the single file of a multipart/form-data request, as a
 * stream (never buffered whole). Refusals before the body is read: not
 * multipart (415), a declared length over the limit (413). During it: the
 * file passing the limit (413), no file part (400). Whatever `consume`
 * throws is rethrown; in every refusal the rest of the body is drained
 * (bounded) so the client can read the answer.
 */
export async function withUploadedFile<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  maxBytes: number,
  consume: (file: AsyncIterable<Buffer>) => Promise<T>,
): Promise<T> {
  const contentType = request.headers['content-type'] ?? '';
  try {
    if (!/^multipart\/form-data\s*;/i.test(contentType))
      throw new UnsupportedMediaTypeError('unsupported_media_type', 'Send the file as multipart/form-data.');
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes + MULTIPART_SLACK) throw tooLarge(maxBytes);
    return await parse(request, maxBytes, consume);
  } catch (error) {
    drainRefused(request, reply);
    throw error;
  }
}

function parse<T>(
  request: FastifyRequest,
  maxBytes: number,
  consume: (file: AsyncIterable<Buffer>) => Promise<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let busboy: BusboyInstance;
    try {
      busboy = new Busboy({
        headers: request.headers as { 'content-type': string },
        limits: { files: 1, fileSize: maxBytes, fields: 10, fieldSize: 1024, parts: 12, headerPairs: 20 },
      });
    } catch (error) {
      reject(new ValidationError(`The multipart body cannot be read (${(error as Error).message}).`));
      return;
    }
    let settled = false;
    let result: Promise<T> | undefined;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      request.raw.unpipe(busboy);
      reject(error);
    };
    busboy.on('file', (_field: string, stream: BusboyFileStream) => {
      if (result) {
        stream.resume();
        return;
      }
      result = consume(guarded(stream, maxBytes));
      result.catch(fail);
    });
    busboy.on('finish', () => {
      if (!result) {
        fail(new ValidationError('A file part is required.', [{ field: '/file', message: 'missing' }]));
        return;
      }
      result.then((value) => {
        if (settled) return;
        settled = true;
        resolve(value);
      }, fail);
    });
    busboy.on('error', (error: Error) =>
      fail(new ValidationError(`The multipart body cannot be read (${error.message}).`)),
    );
    request.raw.on('aborted', () => fail(new ValidationError('The upload was cut off.')));
    request.raw.pipe(busboy);
  });
}
