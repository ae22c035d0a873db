/**
 * The JavaScript SHA-1 of the name-based ids (src/core/sha1.ts) against node:crypto's, on
 * messages of every length around the block boundaries and random contents: a child row's id
 * is persisted, so the digest must be exactly SHA-1's.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha1 } from '../../src/core/sha1.js';
import { PROJECT_NAMESPACE_UUID, childUuid, nameUuid } from '../../src/core/ids.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('sha1', () => {
  it('equals node:crypto for every length from 0 to 300 bytes', () => {
    const out = new Uint8Array(20);
    for (let n = 0; n <= 300; n++) {
      const message = randomBytes(n + 7);
      sha1(message, n, out);
      expect(hex(out), `length ${n}`).toBe(createHash('sha1').update(message.subarray(0, n)).digest('hex'));
    }
  });

  it('gives the standard test vectors', () => {
    const out = new Uint8Array(20);
    const digest = (s: string) => {
      const b = Buffer.from(s, 'utf8');
      sha1(b, b.length, out);
      return hex(out);
    };
    expect(digest('')).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
    expect(digest('abc')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(digest('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('84983e441c3bd26ebaae4aa1f95129e5e54670f1');
  });
});

describe('name-based ids', () => {
  it('are UUIDv5 of the project namespace as node:crypto computes them, for short, long and non-ASCII names', () => {
    const namespace = Buffer.from(PROJECT_NAMESPACE_UUID.replaceAll('-', ''), 'hex');
    const reference = (ns: string, key: string) => {
      const h = createHash('sha1').update(namespace).update(Buffer.from(`${ns}\u0000${key}`, 'utf8')).digest();
      h[6] = ((h[6] as number) & 0x0f) | 0x50;
      h[8] = ((h[8] as number) & 0x3f) | 0x80;
      const x = h.subarray(0, 16).toString('hex');
      return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
    };
    // Names across the buffer's first size (256 bytes) and both sides of every block boundary.
    for (let n = 0; n < 400; n += 7) {
      for (const unit of ['a', 'é', '😀']) {
        const key = `str:${unit.repeat(n)}`;
        expect(nameUuid('orders', key), `${n} × ${unit}`).toBe(reference('orders', key));
      }
    }
    const parent = '018f3a2b-1c2d-8e3f-8a4b-5c6d7e8f9a0b';
    for (let position = 0; position < 50; position++) {
      expect(childUuid(parent, 'OrderStatusHistory', position)).toBe(reference('child:OrderStatusHistory', `${parent}:${position}`));
    }
  });
});
