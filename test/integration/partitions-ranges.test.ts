/**
 * `_id` ranges on a real server: ranges built from split points given in any order (as
 * `$bucketAuto` returns them on some servers) and read with rangeFilter select every document
 * exactly once, across `_id` types, and a resume inside a range reads exactly what follows the
 * last id. Runs on the test server (FerretDB v1 here, whose `$type` aliases are a subset of
 * MongoDB's; a real MongoDB through MONGO_URI).
 */
import { Binary, Double, Int32, Long, ObjectId, Timestamp, type Document } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { ejson, rangeFilter, rangesFromBounds } from '../../src/source/partitions.js';
import { compareIds } from '../../src/source/id-order.js';
import { sourceIdKey } from '../../src/core/ids.js';
import { EXACT_READ_OPTIONS } from '../../src/source/mongo-source.js';

const t = useTestDatabases();

const oid = (n: number) => new ObjectId(n.toString(16).padStart(24, '0'));
const IDS: unknown[] = [
  null,
  ...Array.from({ length: 8 }, (_, j) => new Int32(j * 3 - 10)),
  ...Array.from({ length: 8 }, (_, j) => Long.fromNumber(j * 3 - 9)),
  ...Array.from({ length: 8 }, (_, j) => new Double(j * 3 - 8.5)),
  '',
  ...Array.from({ length: 8 }, (_, j) => `order-${j}`),
  { k: 1 },
  { k: 'x' },
  new Binary(Buffer.from([1]), 0),
  new Binary(Buffer.from([1, 2]), 0),
  ...Array.from({ length: 8 }, (_, j) => oid(j + 1)),
  false,
  true,
  ...Array.from({ length: 8 }, (_, j) => new Date(Date.UTC(2020, 0, 1) - 86_400_000 * 400 + j * 86_400_000 * 100)),
  new Timestamp({ t: 10, i: 1 }),
  new Timestamp({ t: 10, i: 2 }),
];

let sorted: unknown[];

beforeAll(async () => {
  // The insert command itself: the driver's insertMany replaces a null _id with a new ObjectId.
  await t.db.command({ insert: 'mixed', documents: IDS.map((id, j) => ({ _id: id, n: j })) });
  sorted = [...IDS].sort(compareIds);
  // The server's own order agrees with compareIds (the order the bounds are sorted in).
  const served = await t.db.collection('mixed').find({}, { sort: { _id: 1 }, projection: { _id: 1 }, ...EXACT_READ_OPTIONS }).toArray();
  expect(served.map((d) => sourceIdKey(d._id))).toEqual(sorted.map((id) => sourceIdKey(id)));
});

async function keysOf(filter: Document): Promise<string[]> {
  const docs = await t.db.collection('mixed').find(filter, { sort: { _id: 1 }, projection: { _id: 1 }, ...EXACT_READ_OPTIONS }).toArray();
  return docs.map((d) => sourceIdKey(d._id));
}

describe('ranges from unsorted, duplicated, mixed-type split points, read on the server', () => {
  it('every document in exactly one range; a resume in each range reads exactly what follows', async () => {
    // Every 5th id as a split point, reversed and duplicated: the order no server promises.
    const bounds = sorted.filter((_, i) => i % 5 === 3);
    const ranges = rangesFromBounds([...bounds].reverse().concat(bounds.slice(0, 4)));
    expect(ranges).toHaveLength(bounds.length + 1);
    const seen: string[] = [];
    for (const range of ranges) {
      const inRange = sorted.filter((id) => (range.start === null || compareIds(id, bounds.find((b) => ejson(b) === range.start)) >= 0) && (range.end === null || compareIds(id, bounds.find((b) => ejson(b) === range.end)) < 0));
      const keys = await keysOf(rangeFilter(range, null));
      expect(keys, `range ${JSON.stringify(range)}`).toEqual(inRange.map((id) => sourceIdKey(id)));
      seen.push(...keys);
      // Resumed after the range's middle id: the rest of the range, nothing else.
      const mid = inRange[Math.floor(inRange.length / 2)];
      if (mid !== undefined) {
        const after = await keysOf(rangeFilter(range, ejson(mid)));
        expect(after, `range ${JSON.stringify(range)} after ${ejson(mid)}`).toEqual(inRange.filter((id) => compareIds(id, mid) > 0).map((id) => sourceIdKey(id)));
      }
    }
    expect(seen).toEqual(sorted.map((id) => sourceIdKey(id)));
  });

  it('one unbounded range resumed after every id reads exactly the ids after it', async () => {
    for (const last of sorted) {
      const keys = await keysOf(rangeFilter({ start: null, end: null }, ejson(last)));
      expect(keys, `after ${ejson(last)}`).toEqual(sorted.filter((id) => compareIds(id, last) > 0).map((id) => sourceIdKey(id)));
    }
  });
});
