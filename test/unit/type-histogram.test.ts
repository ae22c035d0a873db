/**
 * The type histogram on real BSON values: documents are serialised with the bson package and
 * decoded as plan decodes them (no promotion), so Int32, Double, Int64 and Decimal128 stay
 * apart, including the values FerretDB cannot store (Decimal128, NaN, arrays in arrays).
 */
import { BSON, Binary, Decimal128, Double, Int32, Long, ObjectId, Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { HISTOGRAM_READ_OPTIONS, TypeHistogram, bsonTypeName, codePoints, walkDocument } from '../../src/core/type-histogram.js';

/** A document as plan sees it: serialised to BSON, decoded without promotion. */
function roundTrip(doc: Record<string, unknown>): Record<string, unknown> {
  return BSON.deserialize(BSON.serialize(doc), HISTOGRAM_READ_OPTIONS);
}

function histogramOf(docs: Record<string, unknown>[], cap?: number) {
  const h = new TypeHistogram(cap);
  for (const d of docs) h.observe(roundTrip(d));
  return h.toJSON();
}

describe('bsonTypeName', () => {
  it('tells every numeric BSON type apart after an unpromoted decoding', () => {
    const d = roundTrip({ i: new Int32(5), f: new Double(5), l: Long.fromString('9007199254740993'), m: Decimal128.fromString('12.3400'), n: new Double(Number.NaN) });
    expect([d.i, d.f, d.l, d.m, d.n].map(bsonTypeName)).toEqual(['int', 'double', 'long', 'decimal', 'double']);
  });

  it('names the other BSON types as MongoDB $type does', () => {
    const d = roundTrip({ s: 'x', b: true, t: new Date(0), o: new ObjectId(), z: null, a: [], e: {}, bin: new Binary(Buffer.from('ab')), ts: new Timestamp({ t: 1, i: 1 }), re: /a/i });
    expect(Object.fromEntries(Object.entries(d).map(([k, v]) => [k, bsonTypeName(v)]))).toEqual({
      s: 'string', b: 'bool', t: 'date', o: 'objectId', z: 'null', a: 'array', e: 'object', bin: 'binData', ts: 'timestamp', re: 'regex',
    });
  });

  it('calls a promoted JS number "number" (Int32 or Double: the decoder no longer says) and a bigint "long"', () => {
    expect(bsonTypeName(3)).toBe('number');
    expect(bsonTypeName(3n)).toBe('long');
  });
});

describe('TypeHistogram', () => {
  it('counts types per path, with missing and null rates relative to the documents', () => {
    const h = histogramOf([
      { _id: 1, price: new Int32(10) },
      { _id: 2, price: new Double(10.5) },
      { _id: 3, price: '12 500' },
      { _id: 4, price: null },
      { _id: 5 },
      { _id: 6, price: Long.fromNumber(7) },
      { _id: 7, price: Decimal128.fromString('1.25') },
      { _id: 8, price: new Double(Number.NaN) },
    ]);
    expect(h.documents).toBe(8);
    const price = h.paths.price;
    expect(price?.types).toEqual({ double: 2, int: 1, string: 1, null: 1, long: 1, decimal: 1 });
    expect(price?.count).toBe(7);
    expect(price?.missing).toBe(1);
    expect(price?.missingRate).toBe(0.125);
    expect(price?.nullRate).toBe(0.125);
    expect(price?.maxStringLength).toBe(6);
    expect(price?.specialDoubles).toEqual({ NaN: 1 });
  });

  it('walks arrays as items[] and items[].field, with the longest array and missing relative to the elements', () => {
    const h = histogramOf([
      { items: [{ unitPrice: new Int32(1) }, { unitPrice: '2,5' }, { name: 'no price' }] },
      { items: [] },
      { items: 'not an array' },
    ]);
    expect(h.paths.items?.types).toEqual({ array: 2, string: 1 });
    expect(h.paths.items?.maxArrayLength).toBe(3);
    expect(h.paths['items[]']?.types).toEqual({ object: 3 });
    expect(h.paths['items[].unitPrice']?.types).toEqual({ int: 1, string: 1 });
    expect(h.paths['items[].unitPrice']?.missing).toBe(1);
    expect(h.paths['items[].name']?.missing).toBe(2);
  });

  it('walks arrays directly inside arrays (real MongoDB only) as a[][]', () => {
    const h = histogramOf([{ zones: [[new Int32(1), new Int32(2)], [], 'x'] }]);
    expect(h.paths.zones?.maxArrayLength).toBe(3);
    expect(h.paths['zones[]']?.types).toEqual({ array: 2, string: 1 });
    expect(h.paths['zones[]']?.maxArrayLength).toBe(2);
    expect(h.paths['zones[][]']?.types).toEqual({ int: 2 });
  });

  it('counts missing nested fields against the objects of their parent only', () => {
    const h = histogramOf([{ address: { city: 'Dakar' } }, { address: { street: 'x' } }, { address: 'rue 12' }, {}]);
    expect(h.paths.address?.types).toEqual({ object: 2, string: 1 });
    expect(h.paths['address.city']?.missing).toBe(1);
    expect(h.paths['address.city']?.missingRate).toBe(0.5);
    expect(h.paths.address?.missing).toBe(1);
  });

  it('measures strings in code points, as varchar(n) does', () => {
    expect(codePoints('a😀é')).toBe(3);
    const h = histogramOf([{ s: '😀😀' }, { s: 'abc' }]);
    expect(h.paths.s?.maxStringLength).toBe(3);
  });

  it('records -0 and infinities as special doubles', () => {
    const h = histogramOf([{ x: new Double(-0) }, { x: new Double(Infinity) }, { x: new Double(-Infinity) }, { x: new Double(1) }]);
    expect(h.paths.x?.specialDoubles).toEqual({ '-0': 1, Infinity: 1, '-Infinity': 1 });
  });

  it('keeps at most pathCap distinct paths and counts what it drops', () => {
    const doc: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++) doc[`k${i}`] = i;
    const h = histogramOf([doc, doc], 10);
    expect(Object.keys(h.paths)).toHaveLength(10);
    expect(h.overflow.occurrences).toBe(80);
    expect(h.overflow.examples.length).toBeGreaterThan(0);
  });

  it('walkDocument gives each value its path and parent', () => {
    const seen: string[] = [];
    walkDocument({ a: { b: [1, { c: 2 }] } }, (path, parent, _v, type) => seen.push(`${path}<${parent}:${type}`));
    expect(seen).toEqual(['a<:object', 'a.b<a:array', 'a.b[]<a.b:number', 'a.b[]<a.b:object', 'a.b[].c<a.b[]:number']);
  });
});
