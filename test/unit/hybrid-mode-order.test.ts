import { ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { objectIdToUuid } from '../../src/core/ids.js';
import { compareKeys, decodeCursor, encodeCursor, InvalidCursorError, objectIdBound, orderOf, sortValueOf, type SortKey } from '../../src/hybrid-mode/combined-order.js';

const hex = (n: bigint) => n.toString(16).padStart(24, '0');

describe('objectIdBound', () => {
  it('turns a UUID bound into the _id bound with the same meaning, for ObjectId UUIDs and the application’s own ids', () => {
    const oids = [new ObjectId('65a1b2c3d4e5f60718293a4b'), new ObjectId('65a1b2c3d4e5f60718293a4c'), new ObjectId('65a1b2c40000000000000000'), new ObjectId('000000000000000000000000')];
    const appIds = ['0190f5e2-7b1a-7000-8000-000000000001', '65a1b2c3-d4e5-4f60-8718-293a4b000000', '018d19a5-7c48-8e50-8071-8293a4b00000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '00000000-0000-0000-0000-000000000000'];
    const bounds = [...oids.map((o) => objectIdToUuid(o)), ...appIds];
    for (const u of bounds) {
      for (const strict of [false, true]) {
        const b = objectIdBound(u, strict);
        // Every probe ObjectId: (uuid ≥ u) ⇔ oid ≥ bound (or > with strict).
        for (const o of [...oids.map((x) => BigInt(`0x${x.toHexString()}`)), b - 1n, b, b + 1n].filter((n) => n >= 0n && n < 1n << 96n)) {
          const uo = objectIdToUuid(hex(o));
          expect(strict ? uo > u : uo >= u, `${u} ${hex(o)} strict=${strict}`).toBe(o >= b);
        }
      }
    }
    const first = oids[0] as ObjectId;
    expect(hex(objectIdBound(objectIdToUuid(first), false))).toBe(first.toHexString());
    expect(hex(objectIdBound(objectIdToUuid(first), true))).toBe('65a1b2c3d4e5f60718293a4c');
  });
});

describe('combined order and cursor', () => {
  it('orders null < numbers < strings < dates, then by id', () => {
    const k = (v: unknown, id: string): SortKey => ({ value: sortValueOf(v), id });
    const keys = [k(new Date(5), 'b'), k(null, 'a'), k('x', 'a'), k(3, 'a'), k(new Date(5), 'a'), k(undefined, 'b')];
    expect(keys.sort(compareKeys).map((x) => `${JSON.stringify(x.value)}/${x.id}`)).toEqual([
      'null/a',
      'null/b',
      '{"t":"n","v":3}/a',
      '{"t":"s","v":"x"}/a',
      '{"t":"d","v":5}/a',
      '{"t":"d","v":5}/b',
    ]);
    expect(orderOf('desc')(k(new Date(5), 'a'), k(new Date(4), 'z'))).toBeLessThan(0);
  });

  it('round-trips a cursor and refuses a forged one or one of another sort', () => {
    const key: SortKey = { value: { t: 'd', v: 1_700_000_000_123 }, id: '0190f5e2-7b1a-7000-8000-000000000001' };
    expect(decodeCursor(encodeCursor(key, 'createdAt:desc'), 'createdAt:desc')).toEqual(key);
    expect(() => decodeCursor(encodeCursor(key, 'createdAt:desc'), 'createdAt:asc')).toThrow(InvalidCursorError);
    expect(() => decodeCursor('not-a-cursor', 'createdAt:desc')).toThrow(InvalidCursorError);
    const forged = Buffer.from(JSON.stringify({ k: { t: 'd', v: 'DROP' }, i: key.id, s: 'createdAt:desc' })).toString('base64url');
    expect(() => decodeCursor(forged, 'createdAt:desc')).toThrow(InvalidCursorError);
  });
});
