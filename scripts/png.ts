/** A minimal PNG writer (8-bit RGB, no filtering) for the command-line tools' figures. */
import * as zlib from 'node:zlib';

const CRC_TABLE = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(b: Buffer): number {
  let c = -1;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 255] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** rgb: width·height·3 bytes, row-major. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  if (rgb.length !== width * height * 3) throw new Error(`encodePng: ${rgb.length} bytes for ${width}×${height}×3`);
  const stride = 1 + 3 * width;
  const raw = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) Buffer.from(rgb.buffer, rgb.byteOffset + y * 3 * width, 3 * width).copy(raw, y * stride + 1); // filter byte 0
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** A grid of 32×32 images in [-1, 1] (rows × columns), each pixel drawn `zoom`×`zoom`, with a 2-pixel gap. */
export function imageGridPng(rows: Float32Array[][], size = 32, zoom = 3): Buffer {
  const cols = Math.max(...rows.map((r) => r.length));
  const cell = size * zoom + 2;
  const W = cols * cell, H = rows.length * cell;
  const buf = new Uint8Array(W * H * 3).fill(128);
  rows.forEach((row, r) =>
    row.forEach((im, c) => {
      for (let y = 0; y < size * zoom; y++)
        for (let x = 0; x < size * zoom; x++)
          for (let k = 0; k < 3; k++) {
            const v = im[(Math.floor(y / zoom) * size + Math.floor(x / zoom)) * 3 + k];
            buf[((r * cell + y) * W + c * cell + x) * 3 + k] = Math.round(Math.max(0, Math.min(1, (v + 1) / 2)) * 255);
          }
    }),
  );
  return encodePng(W, H, buf);
}
