/**
 * The filter a range is read (and resumed) with, for every `_id` type: it may only name type
 * aliases every server knows (FerretDB v1 failed every resume after an Int64 `_id` with
 * "Unknown type name alias: symbol"), and it selects exactly the ids after the last committed
 * one, in the range, in MongoDB's order across types. Pure: the selection is checked with a
 * small evaluator of the filter written from MongoDB's documented semantics (comparisons only
 * match their own type; `$type` matches the types named).
 */
import { Binary, Decimal128, Double, Int32, Long, ObjectId, Timestamp, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { ejson, rangeFilter, RANGE_FILTER_TYPE_ALIASES, type IdRange } from '../../src/source/partitions.js';
import { compareIds, idClass } from '../../src/source/id-order.js';

/** The `$type` aliases FerretDB v1.24.2 accepts (internal/handler/handlerparams/typecode.go); MongoDB knows them all. */
const FERRETDB_V1_TYPE_ALIASES = new Set(['double', 'string', 'object', 'array', 'binData', 'objectId', 'bool', 'date', 'null', 'regex', 'int', 'timestamp', 'long', 'number']);

/** Every `$type` value anywhere in a filter. */
function typeAliases(filter: unknown): string[] {
  if (Array.isArray(filter)) return filter.flatMap(typeAliases);
  if (filter === null || typeof filter !== 'object' || (filter as { _bsontype?: unknown })._bsontype || filter instanceof Date) return [];
  return Object.entries(filter as Record<string, unknown>).flatMap(([k, v]) => (k === '$type' ? [v].flat().map(String) : typeAliases(v)));
}

/** Which class names `$type` aliases match. */
const ALIAS_CLASSES: Record<string, string[]> = {
  null: ['null'],
  number: ['number'],
  int: ['number'],
  long: ['number'],
  double: ['number'],
  string: ['string'],
  object: ['object'],
  array: ['array'],
  binData: ['binData'],
  objectId: ['objectId'],
  bool: ['bool'],
  date: ['date'],
  timestamp: ['timestamp'],
  regex: ['regex'],
};

/** MongoDB's semantics for the operators rangeFilter uses, on `_id` only. */
function matches(filter: Document, id: unknown): boolean {
  return Object.entries(filter).every(([key, cond]) => {
    if (key === '$or') return (cond as Document[]).some((f) => matches(f, id));
    if (key === '$and') return (cond as Document[]).every((f) => matches(f, id));
    expect(key).toBe('_id');
    return Object.entries(cond as Document).every(([op, bound]) => {
      if (op === '$type') return [bound].flat().some((alias: string) => (ALIAS_CLASSES[alias] ?? []).includes(idClass(id)));
      // Type bracketing: a comparison only matches values of the bound's own type.
      if (idClass(bound) !== idClass(id)) return false;
      const c = compareIds(id, bound);
      return op === '$gt' ? c > 0 : op === '$gte' ? c >= 0 : op === '$lt' ? c < 0 : op === '$lte' ? c <= 0 : (expect.fail(`operator ${op}`) as never);
    });
  });
}

const oid = (n: number) => new ObjectId(n.toString(16).padStart(24, '0'));
/** Ids of every type an _id can have on both servers, several per type. */
const IDS: unknown[] = [
  null,
  new Int32(-7),
  new Int32(3),
  new Long(4),
  new Long('9007199254740993'),
  2.5,
  new Double(1e20),
  '',
  'a',
  'order-10',
  'order-9',
  { k: 1 },
  new Binary(Buffer.from([1, 2]), 0),
  oid(1),
  oid(2),
  oid(3),
  false,
  true,
  new Date(-86_400_000),
  new Date(1_600_000_000_000),
  new Timestamp({ t: 5, i: 1 }),
];

describe('rangeFilter: resuming after an _id of any type', () => {
  it.each<[string, unknown]>([
    ['Int32', new Int32(3)],
    ['Int64', new Long(4)],
    ['Int64 as bigint', 4n],
    ['Double', 2.5],
    ['Decimal128', Decimal128.fromString('2.75')],
    ['String', 'order-10'],
    ['Date', new Date(-86_400_000)],
    ['ObjectId', oid(2)],
    ['null', null],
    ['Boolean', false],
    ['Timestamp', new Timestamp({ t: 5, i: 1 })],
    ['Binary', new Binary(Buffer.from([1, 2]), 0)],
  ])('after a %s _id: only aliases FerretDB knows, exactly the later ids', (_type, last) => {
    const filter = rangeFilter({ start: null, end: null }, ejson(last));
    for (const alias of typeAliases(filter)) expect(FERRETDB_V1_TYPE_ALIASES.has(alias), `$type ${alias}`).toBe(true);
    const expected = IDS.filter((id) => compareIds(id, last) > 0).map((id) => ejson(id));
    expect(IDS.filter((id) => matches(filter, id)).map((id) => ejson(id))).toEqual(expected);
  });

  it('after an Int64 _id the filter names no symbol, decimal, minKey or maxKey type', () => {
    const filter = rangeFilter({ start: null, end: null }, ejson(new Long(42)));
    expect(typeAliases(filter)).not.toEqual(expect.arrayContaining(['symbol']));
    expect(typeAliases(filter).filter((a) => ['symbol', 'decimal', 'minKey', 'maxKey', 'javascript'].includes(a))).toEqual([]);
    expect(filter).toEqual({ $or: [{ _id: { $gt: new Long(42) } }, { _id: { $type: ['object', 'array', 'binData', 'objectId', 'bool', 'date', 'timestamp', 'regex'] } }, { _id: { $gte: '' } }] });
  });

  it('only ever sends aliases both servers know', () => {
    for (const alias of RANGE_FILTER_TYPE_ALIASES) expect(FERRETDB_V1_TYPE_ALIASES.has(alias), alias).toBe(true);
  });
});

describe('rangeFilter: ranges with bounds of one type and of different types', () => {
  /** [what, start, end, last]; `undefined`: open / not resumed. */
  const NONE = undefined;
  const cases: [string, unknown, unknown, unknown][] = [
    ['ObjectId range', oid(1), oid(3), NONE],
    ['ObjectId range, resumed', oid(1), oid(3), oid(1)],
    ['number to string', new Int32(3), 'order-10', NONE],
    ['number to string, resumed in the numbers', new Int32(3), 'order-10', new Long(4)],
    ['null to ObjectId', null, oid(2), NONE],
    ['open below, ending at a Date', NONE, new Date(0), NONE],
    ['from a string, open above', 'a', NONE, NONE],
    ['open below, ending at a string, resumed after a number', NONE, 'order-9', 2.5],
  ];
  it.each(cases)('%s: exactly the ids in the range after the last one', (_what, start, end, last) => {
    const range: IdRange = { start: start === NONE ? null : ejson(start), end: end === NONE ? null : ejson(end) };
    const filter = rangeFilter(range, last === NONE ? null : ejson(last));
    for (const alias of typeAliases(filter)) expect(FERRETDB_V1_TYPE_ALIASES.has(alias), `$type ${alias}`).toBe(true);
    const inRange = (id: unknown) =>
      (last !== NONE ? compareIds(id, last) > 0 : start === NONE || compareIds(id, start) >= 0) && (end === NONE || compareIds(id, end) < 0);
    expect(IDS.filter((id) => matches(filter, id)).map((id) => ejson(id))).toEqual(IDS.filter(inRange).map((id) => ejson(id)));
  });

  it('a range of one type is a single comparison (one index range)', () => {
    expect(rangeFilter({ start: ejson(oid(1)), end: ejson(oid(3)) }, null)).toEqual({ _id: { $gte: oid(1), $lt: oid(3) } });
    expect(rangeFilter({ start: ejson(oid(1)), end: ejson(oid(3)) }, ejson(oid(2)))).toEqual({ _id: { $gt: oid(2), $lt: oid(3) } });
    expect(rangeFilter({ start: null, end: null }, null)).toEqual({});
  });
});
