import { createHash } from 'node:crypto';
import { Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID } from 'bson';
import { describe, expect, it } from 'vitest';
import {
  PROJECT_NAMESPACE_UUID,
  childUuid,
  idToUuid,
  isObjectIdHex,
  nameUuid,
  objectIdHex,
  objectIdToUuid,
  parseReference,
  sourceIdKey,
  uuidToObjectId,
} from '../../src/core/ids.js';

/** Deterministic PRNG (mulberry32) so that a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomOidBytes(next: () => number): Uint8Array {
  const b = new Uint8Array(12);
  for (let i = 0; i < 12; i++) b[i] = Math.floor(next() * 256);
  return b;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const uuidBytes = (u: string): Buffer => Buffer.from(u.replaceAll('-', ''), 'hex');
const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('objectIdToUuid', () => {
  it('follows the documented layout on a known ObjectId', () => {
    // timestamp 0x5f1d7e2a = 1595768362 s → 1595768362000 ms = 0x01738b34d410
    const oid = new ObjectId('5f1d7e2a9b3c4d5e6f708192');
    const u = objectIdToUuid(oid);
    const ms = 0x5f1d7e2a * 1000;
    expect(u.slice(0, 8) + u.slice(9, 13)).toBe(ms.toString(16).padStart(12, '0'));
    expect(u.slice(14, 18)).toBe('89b0'); // 0x80 | 0x9, (0xb << 4)
    expect(u.slice(19, 21)).toBe('80');
    expect(u.slice(21, 23) + u.slice(24)).toBe('3c4d5e6f708192');
    expect(u).toBe('01738b34-d410-89b0-803c-4d5e6f708192');
    expect(new Date(parseInt(u.slice(0, 8) + u.slice(9, 13), 16)).toISOString()).toBe(oid.getTimestamp().toISOString());
  });

  it('accepts an ObjectId, its 24-hex string (any case) and its 12 bytes alike', () => {
    const oid = new ObjectId();
    const u = objectIdToUuid(oid);
    expect(objectIdToUuid(oid.toHexString())).toBe(u);
    expect(objectIdToUuid(oid.toHexString().toUpperCase())).toBe(u);
    expect(objectIdToUuid(new Uint8Array(oid.id))).toBe(u);
    // an ObjectId-like from another bson copy (only _bsontype and toHexString)
    const foreign = { _bsontype: 'ObjectId', toHexString: () => oid.toHexString() };
    expect(objectIdToUuid(foreign)).toBe(u);
  });

  it('maps the extreme ObjectIds', () => {
    expect(objectIdToUuid('000000000000000000000000')).toBe('00000000-0000-8000-8000-000000000000');
    expect(objectIdToUuid('ffffffffffffffffffffffff')).toBe('03e7ffff-fc18-8ff0-80ff-ffffffffffff');
    expect(uuidToObjectId('03e7ffff-fc18-8ff0-80ff-ffffffffffff')).toBe('ffffffffffffffffffffffff');
  });

  it.each([['zz1d7e2a9b3c4d5e6f708192'], ['5f1d7e2a'], [''], ['5f1d7e2a9b3c4d5e6f7081921']])('rejects bad input %j', (bad) => {
    expect(() => objectIdToUuid(bad)).toThrow(TypeError);
  });
  it('rejects a byte array that is not 12 long', () => {
    expect(() => objectIdToUuid(new Uint8Array(11))).toThrow(TypeError);
  });

  it('property over 10k random ObjectIds: exact inverse, order preserved, version/variant bits, canonical text', () => {
    const next = rng(20240601);
    const oids: Uint8Array[] = [];
    for (let i = 0; i < 10_000; i++) oids.push(randomOidBytes(next));
    // a few that share timestamps / prefixes, to exercise the tie-breaking bytes
    for (let i = 0; i < 200; i++) {
      const b = randomOidBytes(next);
      b.set((oids[i] as Uint8Array).subarray(0, 4 + (i % 8)), 0);
      oids.push(b);
    }
    const pairs = oids.map((b) => ({ oid: hex(b), uuid: objectIdToUuid(b) }));
    for (const { oid, uuid } of pairs) {
      expect(CANONICAL.test(uuid)).toBe(true);
      const ub = uuidBytes(uuid);
      expect((ub[6] as number) >> 4).toBe(8); // version 8
      expect((ub[8] as number) >> 6).toBe(0b10); // RFC 9562 variant
      expect(ub[8]).toBe(0x80);
      expect((ub[7] as number) & 0x0f).toBe(0);
      expect(uuidToObjectId(uuid)).toBe(oid);
      expect(uuidToObjectId(uuid.toUpperCase())).toBe(oid);
    }
    const byOid = [...pairs].sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
    const byUuid = [...pairs].sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
    expect(byUuid.map((p) => p.oid)).toEqual(byOid.map((p) => p.oid));
    // compare as bytes as PostgreSQL does, not only as text
    for (let i = 1; i < byOid.length; i++) {
      const a = byOid[i - 1] as { oid: string; uuid: string };
      const b = byOid[i] as { oid: string; uuid: string };
      expect(Math.sign(Buffer.compare(uuidBytes(a.uuid), uuidBytes(b.uuid)))).toBe(
        Math.sign(Buffer.compare(Buffer.from(a.oid, 'hex'), Buffer.from(b.oid, 'hex'))),
      );
    }
    expect(new Set(pairs.map((p) => p.uuid)).size).toBe(new Set(pairs.map((p) => p.oid)).size);
  });

  it('interleaves in time with UUIDv7 (first 48 bits are unix ms)', () => {
    const oid = ObjectId.createFromTime(1_700_000_000);
    const u = objectIdToUuid(oid);
    const v7Before = `${(1_700_000_000 * 1000 - 1).toString(16).padStart(12, '0').replace(/^(.{8})(.{4})$/, '$1-$2')}-7fff-bfff-ffffffffffff`;
    const v7After = `${(1_700_000_000 * 1000 + 1).toString(16).padStart(12, '0').replace(/^(.{8})(.{4})$/, '$1-$2')}-7000-8000-000000000000`;
    expect(v7Before < u && u < v7After).toBe(true);
  });
});

describe('uuidToObjectId', () => {
  const u = objectIdToUuid('5f1d7e2a9b3c4d5e6f708192');
  it.each([
    ['a v4 uuid', '3b241101-e2bb-4255-8caf-4136c566a962'],
    ['a v7 uuid', '01738b34-d410-79b0-803c-4d5e6f708192'],
    ['a v5 uuid', nameUuid('orders', 'str:abc')],
    ['byte 8 not 0x80', `${u.slice(0, 19)}81${u.slice(21)}`],
    ['byte 7 low nibble set', `${u.slice(0, 17)}1${u.slice(18)}`],
    ['ms not a whole second', `01738b34-d411${u.slice(13)}`],
    ['ms beyond 32-bit seconds', `03e8000000008000-8000-000000000000`.replace(/^(.{8})(.{4})(.{4})/, '$1-$2-$3')],
    ['not hex', u.replace(/[0-9a-f]$/, 'g')],
    ['no hyphens', u.replaceAll('-', '')],
    ['empty', ''],
  ])('returns null for %s', (_name, input) => {
    expect(uuidToObjectId(input)).toBeNull();
  });
  it('sanity: the base uuid itself round-trips', () => {
    expect(uuidToObjectId(u)).toBe('5f1d7e2a9b3c4d5e6f708192');
  });
});

describe('nameUuid', () => {
  it('is RFC 4122 UUIDv5 over the project namespace', () => {
    const expected = (() => {
      const h = createHash('sha1')
        .update(Buffer.from(PROJECT_NAMESPACE_UUID.replaceAll('-', ''), 'hex'))
        .update('orders\u0000str:abc', 'utf8')
        .digest();
      h[6] = ((h[6] as number) & 0x0f) | 0x50;
      h[8] = ((h[8] as number) & 0x3f) | 0x80;
      const x = h.subarray(0, 16).toString('hex');
      return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
    })();
    expect(nameUuid('orders', 'str:abc')).toBe(expected);
    expect(nameUuid('orders', 'str:abc')[14]).toBe('5');
    expect(CANONICAL.test(nameUuid('x', 'y'))).toBe(true);
  });
  it('the namespace constant is UUIDv5(URL, urn:hybrid-migrate:source-id)', () => {
    const h = createHash('sha1')
      .update(Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex'))
      .update('urn:hybrid-migrate:source-id')
      .digest();
    h[6] = ((h[6] as number) & 0x0f) | 0x50;
    h[8] = ((h[8] as number) & 0x3f) | 0x80;
    expect(PROJECT_NAMESPACE_UUID.replaceAll('-', '')).toBe(h.subarray(0, 16).toString('hex'));
  });
  it('separates namespace and key unambiguously', () => {
    expect(nameUuid('ab', 'c')).not.toBe(nameUuid('a', 'bc'));
    expect(nameUuid('orders', 'str:1')).not.toBe(nameUuid('clients', 'str:1'));
  });
});

describe('sourceIdKey', () => {
  it.each<[string, unknown, string]>([
    ['ObjectId', new ObjectId('5F1D7E2A9B3C4D5E6F708192'), 'oid:5f1d7e2a9b3c4d5e6f708192'],
    ['string', 'abc', 'str:abc'],
    ['24-hex string stays a string', '5f1d7e2a9b3c4d5e6f708192', 'str:5f1d7e2a9b3c4d5e6f708192'],
    ['numeric string', '12', 'str:12'],
    ['empty string', '', 'str:'],
    ['number', 12, 'int:12'],
    ['Int32', new Int32(12), 'int:12'],
    ['integral Double', new Double(12), 'int:12'],
    ['Long', Long.fromNumber(12), 'int:12'],
    ['bigint', 12n, 'int:12'],
    ['integral Decimal128', Decimal128.fromString('12.00'), 'int:12'],
    ['Decimal128 in exponent form', Decimal128.fromString('1.2E+1'), 'int:12'],
    ['-0', -0, 'int:0'],
    ['Long above 2^53', Long.fromString('9007199254740993'), 'int:9007199254740993'],
    ['bigint above 2^53', 9007199254740993n, 'int:9007199254740993'],
    ['double', 1.5, 'double:1.5'],
    ['Double wrapper', new Double(1.5), 'double:1.5'],
    ['NaN', Number.NaN, 'double:NaN'],
    ['Infinity', Number.POSITIVE_INFINITY, 'double:Infinity'],
    ['fractional Decimal128', Decimal128.fromString('1.50'), 'decimal:1.5'],
    ['Decimal128 NaN', Decimal128.fromString('NaN'), 'decimal:NaN'],
    ['boolean', true, 'bool:true'],
    ['null', null, 'null:'],
    ['Date', new Date(-1), 'date:-1'],
    ['Binary', new Binary(Buffer.from('hi'), 0), 'bin:0:aGk='],
    ['UUID', new UUID('0c0f8a4e-33a4-4b4e-8a5c-0f5c0e0d0a0b'), 'bin:4:DA+KTjOkS06KXA9cDg0KCw=='],
    ['Uint8Array', new Uint8Array([104, 105]), 'bin:0:aGk='],
    ['Timestamp', new Timestamp({ t: 1, i: 2 }), 'ts:4294967298'],
    ['MinKey', new MinKey(), 'minkey:'],
    ['MaxKey', new MaxKey(), 'maxkey:'],
    ['embedded document', { a: 1, b: 'x' }, 'obj:{"a":int:1,"b":str:x}'],
    ['embedded document, other order', { b: 'x', a: 1 }, 'obj:{"b":str:x,"a":int:1}'],
    ['lone surrogate string', 'a\uD800', 'utf16:0061d800'],
  ])('%s', (_name, id, key) => {
    expect(sourceIdKey(id)).toBe(key);
  });
  it('distinguishes a string from a number with the same digits', () => {
    expect(idToUuid('orders', '12')).not.toBe(idToUuid('orders', 12));
  });
  it('does not depend on how the driver deserialized a number (promoteLongs, useBigInt64, promoteValues)', () => {
    const u = idToUuid('orders', 42);
    expect(idToUuid('orders', 42n)).toBe(u);
    expect(idToUuid('orders', Long.fromNumber(42))).toBe(u);
    expect(idToUuid('orders', new Int32(42))).toBe(u);
    expect(idToUuid('orders', new Double(42))).toBe(u);
  });
  it('keeps two distinct lone surrogates distinct (no U+FFFD collapse)', () => {
    expect(idToUuid('c', 'a\uD800')).not.toBe(idToUuid('c', 'a\uDBFF'));
  });
});

describe('idToUuid / childUuid', () => {
  it('uses the reversible layout for ObjectIds and v5 for everything else', () => {
    const oid = new ObjectId();
    expect(idToUuid('orders', oid)).toBe(objectIdToUuid(oid));
    expect(uuidToObjectId(idToUuid('orders', oid))).toBe(oid.toHexString());
    const s = idToUuid('orders', 'legacy-1');
    expect(s).toBe(nameUuid('orders', 'str:legacy-1'));
    expect(s[14]).toBe('5');
    expect(idToUuid('orders', 'legacy-1')).toBe(s); // deterministic
    expect(idToUuid('clients', 'legacy-1')).not.toBe(s); // per collection
  });
  it('childUuid is deterministic per parent, relation and position', () => {
    const parent = objectIdToUuid(new ObjectId());
    const a = childUuid(parent, 'items', 0);
    expect(childUuid(parent, 'items', 0)).toBe(a);
    expect(childUuid(parent.toUpperCase(), 'items', 0)).toBe(a);
    expect(childUuid(parent, 'items', 1)).not.toBe(a);
    expect(childUuid(parent, 'statusHistory', 0)).not.toBe(a);
    expect(a).toBe(nameUuid('child:items', `${parent}:0`));
    expect(() => childUuid(parent, 'items', -1)).toThrow(RangeError);
    expect(() => childUuid(parent, 'items', 1.5)).toThrow(RangeError);
  });
});

describe('parseReference', () => {
  const oid = new ObjectId('5f1d7e2a9b3c4d5e6f708192');
  it.each<[string, unknown, unknown]>([
    ['ObjectId', oid, { kind: 'objectId', hex: '5f1d7e2a9b3c4d5e6f708192' }],
    ['24-hex string', '5f1d7e2a9b3c4d5e6f708192', { kind: 'objectId', hex: '5f1d7e2a9b3c4d5e6f708192' }],
    ['uppercase 24-hex string', '5F1D7E2A9B3C4D5E6F708192', { kind: 'objectId', hex: '5f1d7e2a9b3c4d5e6f708192' }],
    ['Extended JSON $oid', { $oid: '5f1d7e2a9b3c4d5e6f708192' }, { kind: 'objectId', hex: '5f1d7e2a9b3c4d5e6f708192' }],
    ['23 hex chars', '5f1d7e2a9b3c4d5e6f70819', { kind: 'other', value: '5f1d7e2a9b3c4d5e6f70819' }],
    ['24 chars, not hex', '5f1d7e2a9b3c4d5e6f70819z', { kind: 'other', value: '5f1d7e2a9b3c4d5e6f70819z' }],
    ['hex with spaces', ' 5f1d7e2a9b3c4d5e6f708192', { kind: 'other', value: ' 5f1d7e2a9b3c4d5e6f708192' }],
    ['number', 12, { kind: 'other', value: 12 }],
    ['empty string', '', { kind: 'other', value: '' }],
  ])('%s', (_name, input, expected) => {
    expect(parseReference(input)).toEqual(expected);
  });
  it('null and undefined are no reference', () => {
    expect(parseReference(null)).toBeNull();
    expect(parseReference(undefined)).toBeNull();
  });
  it('a hex-string reference resolves to the same uuid as the ObjectId', () => {
    const r = parseReference(oid.toHexString());
    expect(r?.kind).toBe('objectId');
    if (r?.kind === 'objectId') expect(objectIdToUuid(r.hex)).toBe(idToUuid('clients', oid));
  });
  it('isObjectIdHex', () => {
    expect(isObjectIdHex('5f1d7e2a9b3c4d5e6f708192')).toBe(true);
    expect(isObjectIdHex('5f1d7e2a9b3c4d5e6f7081é2')).toBe(false);
  });
});

describe('ObjectId hex text from the bytes', () => {
  it('is bson toHexString for every byte value, in keys, references and UUIDs', () => {
    for (let b = 0; b < 256; b += 1) {
      const bytes = new Uint8Array(12).map((_, i) => (b * 37 + i * 101) & 0xff);
      const oid = new ObjectId(bytes);
      const hex = oid.toHexString();
      expect(objectIdHex(oid)).toBe(hex);
      expect(sourceIdKey(oid)).toBe(`oid:${hex}`);
      expect(parseReference(oid)).toEqual({ kind: 'objectId', hex });
      expect(objectIdToUuid(oid)).toBe(objectIdToUuid(hex.toUpperCase()));
      expect(uuidToObjectId(objectIdToUuid(oid))).toBe(hex);
    }
  });
});
