/**
 * SHA-1 (FIPS 180-4) of short messages, in JavaScript, for the name-based UUIDs (ids.ts): a
 * child row's id is made per child row, and node:crypto's one-shot hash cost about 2.3 µs a
 * call here, almost all of it the call into OpenSSL, for a message of two blocks. This one
 * works on a reused buffer and costs a fraction of that. Only for ids (UUIDv5 is SHA-1 by
 * definition): nothing here is used for security. The unit tests compare it with node:crypto.
 */

const W = new Int32Array(80);
const H = new Int32Array(5);
let block = new Uint8Array(128);

/** The SHA-1 digest of `message[0, length)`, written into `out[0, 20)`. */
export function sha1(message: Uint8Array, length: number, out: Uint8Array): void {
  // The message, its 0x80 terminator and its bit length, padded to a multiple of 64 bytes.
  const total = (((length + 8) >>> 6) + 1) << 6;
  if (block.length < total) block = new Uint8Array(total);
  const m = block;
  m.set(message.subarray(0, length));
  m[length] = 0x80;
  m.fill(0, length + 1, total);
  const bits = length * 8;
  m[total - 5] = Math.floor(bits / 0x1_0000_0000) & 0xff;
  m[total - 4] = (bits >>> 24) & 0xff;
  m[total - 3] = (bits >>> 16) & 0xff;
  m[total - 2] = (bits >>> 8) & 0xff;
  m[total - 1] = bits & 0xff;
  H[0] = 0x67452301;
  H[1] = 0xefcdab89 | 0;
  H[2] = 0x98badcfe | 0;
  H[3] = 0x10325476;
  H[4] = 0xc3d2e1f0 | 0;
  for (let off = 0; off < total; off += 64) compress(m, off);
  for (let i = 0; i < 5; i++) {
    const h = H[i] as number;
    out[4 * i] = h >>> 24;
    out[4 * i + 1] = (h >>> 16) & 0xff;
    out[4 * i + 2] = (h >>> 8) & 0xff;
    out[4 * i + 3] = h & 0xff;
  }
}

function compress(m: Uint8Array, off: number): void {
  const w = W;
  for (let i = 0; i < 16; i++) {
    const j = off + 4 * i;
    w[i] = ((m[j] as number) << 24) | ((m[j + 1] as number) << 16) | ((m[j + 2] as number) << 8) | (m[j + 3] as number);
  }
  for (let i = 16; i < 80; i++) {
    const x = (w[i - 3] as number) ^ (w[i - 8] as number) ^ (w[i - 14] as number) ^ (w[i - 16] as number);
    w[i] = (x << 1) | (x >>> 31);
  }
  let a = H[0] as number;
  let b = H[1] as number;
  let c = H[2] as number;
  let d = H[3] as number;
  let e = H[4] as number;
  // Four loops, one per round function: no branch inside a round.
  for (let i = 0; i < 20; i++) {
    const t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + (w[i] as number)) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 20; i < 40; i++) {
    const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + (w[i] as number)) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 40; i < 60; i++) {
    const t = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + (0x8f1bbcdc | 0) + (w[i] as number)) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 60; i < 80; i++) {
    const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + (0xca62c1d6 | 0) + (w[i] as number)) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  H[0] = ((H[0] as number) + a) | 0;
  H[1] = ((H[1] as number) + b) | 0;
  H[2] = ((H[2] as number) + c) | 0;
  H[3] = ((H[3] as number) + d) | 0;
  H[4] = ((H[4] as number) + e) | 0;
}
