import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import sharp from 'sharp';

const run = promisify(execFile);

/**
 * Media fixtures made on the spot (nothing binary is committed): a JPEG with
 * GPS and orientation tags, a bomb, a truncated image, videos from ffmpeg's
 * lavfi test sources.
 */
export async function jpegWithGps(width = 1200, height = 800, orientation = 6): Promise<Buffer> {
  const pixels = await sharp({
    create: { width, height, channels: 3, background: { r: 200, g: 80, b: 40 } },
  })
    .composite([
      {
        input: await sharp({
          create: {
            width: Math.round(width / 3),
            height: Math.round(height / 3),
            channels: 3,
            background: '#2040ff',
          },
        })
          .png()
          .toBuffer(),
        left: 10,
        top: 10,
      },
    ])
    .jpeg({ quality: 85 })
    .withMetadata({ orientation })
    .withExif({
      IFD0: { Make: 'NovaCam', Model: 'Leaky 1' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '48/1 51/1 2400/100',
        GPSLongitudeRef: 'E',
        GPSLongitude: '2/1 21/1 300/100',
      },
    })
    .toBuffer();
  return pixels;
}

/**
 * A decompression bomb: a valid PNG whose header declares side×side pixels
 * (900 MP by default) while the file holds a few kilobytes of deflated
 * zeros — the first rows; a decoder that trusted it would allocate ~1 GB.
 */
export function pngBomb(side = 30_000): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale, deflate, no interlace
  const rows = zlib.deflateSync(Buffer.alloc((side + 1) * 64));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', rows),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export async function mp4(
  dir: string,
  seconds = 2,
  options: { audio?: boolean; size?: string } = {},
): Promise<string> {
  const file = path.join(dir, `fixture-${seconds}-${options.size ?? '1280x720'}.mp4`);
  await run('ffmpeg', [
    ...[
      '-nostdin',
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `testsrc=duration=${seconds}:size=${options.size ?? '1280x720'}:rate=25`,
    ],
    ...(options.audio === false ? [] : ['-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`]),
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
    ...(options.audio === false ? [] : ['-c:a', 'aac']),
    ...['-movflags', '+faststart', file],
  ]);
  return file;
}
