/**
 * `_id` ranges from split points the server returns in no promised order (DocumentDB's
 * `$bucketAuto` returned its buckets unsorted): sorted in BSON order, each once, checked
 * sorted, disjoint and covering before use. Pure: bounds built with the bson types.
 */
import { Binary, BSONRegExp, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { bucketSplitPoints, checkRanges, defaultRangeCount, ejson, MAX_RANGES, rangesFromBounds, RangesInvalidError, unejson, type IdRange } from '../../src/source/partitions.js';
import { compareIds, sortDistinctIds } from '../../src/source/id-order.js';
import { ExitCode } from '../../src/core/errors.js';

const oid = (n: number) => new ObjectId(n.toString(16).padStart(24, '0'));

/** Every range's end is the next one's start, the first is open below, the last above, each non-empty. */
function expectPartition(ranges: IdRange[]): void {
  expect(ranges[0]?.start).toBeNull();
  expect(ranges[ranges.length - 1]?.end).toBeNull();
  for (let i = 1; i < ranges.length; i++) {
    expect(ranges[i]?.start).toBe(ranges[i - 1]?.end);
    const { start, end } = ranges[i] as IdRange;
    if (start !== null && end !== null) expect(compareIds(unejson(start), unejson(end))).toBeLessThan(0);
  }
}

/** The range of an id, by the bounds' own order: exactly one must hold it. */
function holders(ranges: IdRange[], id: unknown): number[] {
  return ranges.flatMap((r, i) => ((r.start === null || compareIds(unejson(r.start), id) <= 0) && (r.end === null || compareIds(id, unejson(r.end)) < 0) ? [i] : []));
}

describe('compareIds: MongoDB’s order of _id values', () => {
  it('orders BSON types MinKey < null < numbers < string < object < binData < ObjectId < boolean < Date < Timestamp < RegExp < MaxKey', () => {
    const ascending: unknown[] = [
      new MinKey(),
      null,
      new Int32(-5),
      new Long(3),
      4.5,
      new Double(7),
      Decimal128.fromString('8.25'),
      10n,
      '',
      'a',
      'b',
      { a: 1 },
      new Binary(Buffer.from([1]), 0),
      oid(1),
      oid(2),
      false,
      true,
      new Date(-1000),
      new Date(0),
      new Timestamp({ t: 1, i: 0 }),
      new BSONRegExp('a', 'i'),
      new MaxKey(),
    ];
    const shuffled = [...ascending].reverse();
    shuffled.push(shuffled.splice(3, 1)[0], shuffled.splice(7, 1)[0]);
    expect(sortDistinctIds(shuffled).map((v) => ejson(v))).toEqual(ascending.map((v) => ejson(v)));
  });

  it('compares numbers across Int32, Int64, Double and Decimal128 by value, exactly', () => {
    expect(compareIds(new Int32(5), new Long(5))).toBe(0);
    expect(compareIds(new Double(5), 5n)).toBe(0);
    expect(compareIds(new Long('9007199254740993'), 9007199254740992)).toBeGreaterThan(0); // beyond a double's precision
    expect(compareIds(new Double(2.5), new Int32(3))).toBeLessThan(0);
    expect(compareIds(new Double(-2.5), new Int32(-3))).toBeGreaterThan(0);
    expect(compareIds(Number.NaN, -Infinity)).toBeLessThan(0); // NaN is the smallest number
    expect(compareIds(Decimal128.fromString('1E+3'), new Int32(1000))).toBe(0);
  });

  it('compares strings by UTF-8 bytes, ObjectIds by bytes, Dates by instant, binaries by length first', () => {
    expect(compareIds('\uFB01', '\u{1F600}')).toBeLessThan(0); // UTF-16 code units would say the opposite
    expect(compareIds(oid(0xff), oid(0x100))).toBeLessThan(0);
    expect(compareIds(new Date(-5), new Date(3))).toBeLessThan(0);
    expect(compareIds(new Binary(Buffer.from([9]), 0), new Binary(Buffer.from([0, 0]), 0))).toBeLessThan(0);
    expect(compareIds({ a: 1 }, { a: 'x' })).toBeLessThan(0); // by the value's type first
  });
});

describe('rangesFromBounds', () => {
  it('sorts split points that came unsorted: ranges are disjoint and cover everything', () => {
    const sorted = [oid(100), oid(200), oid(300), oid(400)];
    const ranges = rangesFromBounds([oid(300), oid(100), oid(400), oid(200)]);
    expect(ranges).toEqual([
      { start: null, end: ejson(sorted[0]) },
      { start: ejson(sorted[0]), end: ejson(sorted[1]) },
      { start: ejson(sorted[1]), end: ejson(sorted[2]) },
      { start: ejson(sorted[2]), end: ejson(sorted[3]) },
      { start: ejson(sorted[3]), end: null },
    ]);
    for (let n = 0; n <= 500; n += 7) expect(holders(ranges, oid(n))).toHaveLength(1);
  });

  it('keeps each split point once (duplicates, and equal numbers of different types)', () => {
    const ranges = rangesFromBounds([oid(5), oid(9), oid(5), oid(9), oid(5)]);
    expect(ranges).toHaveLength(3);
    expectPartition(ranges);
    const numbers = rangesFromBounds([new Int32(5), new Long(5), new Double(5), 5n, new Int32(2)]);
    expect(numbers).toHaveLength(3);
    expectPartition(numbers);
  });

  it('orders mixed id types as MongoDB does', () => {
    const bounds = [new Date(1000), 'm', oid(7), new Int32(10), new Long(-3), 2.5, 'b', oid(3), true, { k: 1 }];
    const ranges = rangesFromBounds(bounds);
    expectPartition(ranges);
    expect(ranges.slice(1).map((r) => r.start)).toEqual(sortDistinctIds(bounds).map((v) => ejson(v)));
    const probes: unknown[] = [null, new Int32(-100), new Long(-3), 0, 2.5, 3, 10, 11, '', 'a', 'b', 'c', 'z', { k: 0 }, { k: 2 }, oid(1), oid(3), oid(8), false, true, new Date(0), new Date(5000)];
    for (const id of probes) expect(holders(ranges, id), ejson(id)).toHaveLength(1);
  });

  it('no split point: one range over everything', () => {
    expect(rangesFromBounds([])).toEqual([{ start: null, end: null }]);
  });
});

describe('bucketSplitPoints: $bucketAuto buckets in any order', () => {
  it('drops the smallest lower bound (the collection’s first _id), not the first bucket returned', () => {
    const buckets = [oid(300), oid(1), oid(200), oid(100)].map((min) => ({ _id: { min } }));
    expect(bucketSplitPoints(buckets).map((v) => ejson(v))).toEqual([oid(100), oid(200), oid(300)].map((v) => ejson(v)));
    expectPartition(rangesFromBounds(bucketSplitPoints(buckets)));
  });
});

describe('checkRanges', () => {
  const [a, b, c] = [oid(10), oid(20), oid(30)].map((v) => ejson(v));
  it.each<[string, IdRange[]]>([
    ['overlapping (unsorted bounds taken as they came)', [{ start: null, end: c as string }, { start: c as string, end: a as string }, { start: a as string, end: null }]],
    ['a gap', [{ start: null, end: a as string }, { start: b as string, end: null }]],
    ['not open below', [{ start: a as string, end: null }]],
    ['not open above', [{ start: null, end: a as string }]],
    ['an empty range', [{ start: null, end: a as string }, { start: a as string, end: a as string }, { start: a as string, end: null }]],
    ['open ends in the middle', [{ start: null, end: null }, { start: null, end: null }]],
    ['nothing', []],
  ])('refuses %s with an internal error', (_what, ranges) => {
    let err: unknown;
    try {
      checkRanges(ranges, 'orders');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RangesInvalidError);
    expect(err).toMatchObject({ code: 'RANGES_INVALID', exitCode: ExitCode.Failed });
    expect((err as Error).message).toMatch(/^internal error: the _id ranges of collection "orders" are not sorted, disjoint and covering: /);
  });

  it('accepts a partition', () => {
    const ranges: IdRange[] = [{ start: null, end: a as string }, { start: a as string, end: b as string }, { start: b as string, end: null }];
    expect(checkRanges(ranges)).toEqual(ranges);
  });
});

describe('defaultRangeCount', () => {
  it('one range per two cores, at least one, at most MAX_RANGES', () => {
    expect([1, 2, 3, 4, 8, 16, 1000].map((cores) => defaultRangeCount(cores))).toEqual([1, 1, 1, 2, 4, 8, MAX_RANGES]);
  });
});
