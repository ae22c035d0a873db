/**
 * MongoDB's order of `_id` values, in memory: the comparison order of BSON types
 * (MinKey < null < numbers < string < object < array < binData < ObjectId < boolean < Date <
 * Timestamp < RegExp < … < MaxKey), then the value within its type, as the server sorts
 * `{_id: 1}`. Used where split points come back from the server in no promised order
 * (`$bucketAuto`: DocumentDB returned its buckets unsorted) and must be put in order before
 * ranges are built from them.
 */
import { bsonTypeOf, isDate } from '../core/values/conversion.js';

/**
 * The comparison class of a value: types the server compares with each other (every numeric
 * type; string and symbol) share one class.
 */
export type IdClass =
  | 'minKey'
  | 'null'
  | 'number'
  | 'string'
  | 'object'
  | 'array'
  | 'binData'
  | 'objectId'
  | 'bool'
  | 'date'
  | 'timestamp'
  | 'regex'
  | 'dbPointer'
  | 'javascript'
  | 'javascriptWithScope'
  | 'maxKey';

/** The classes in BSON comparison order (MongoDB's canonical type order). */
export const ID_CLASS_ORDER: readonly IdClass[] = [
  'minKey',
  'null',
  'number',
  'string',
  'object',
  'array',
  'binData',
  'objectId',
  'bool',
  'date',
  'timestamp',
  'regex',
  'dbPointer',
  'javascript',
  'javascriptWithScope',
  'maxKey',
];

const RANK = new Map<IdClass, number>(ID_CLASS_ORDER.map((c, i) => [c, i]));

export function idClassRank(cls: IdClass): number {
  return RANK.get(cls) ?? 0;
}

/** The comparison class of a decoded BSON value (bson package types or the JS values the driver promotes to). */
export function idClass(v: unknown): IdClass {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'bigint') return 'number';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (isDate(v)) return 'date';
  if (Array.isArray(v)) return 'array';
  if (v instanceof RegExp) return 'regex';
  if (v instanceof Uint8Array) return 'binData';
  switch (bsonTypeOf(v)) {
    case 'ObjectId':
    case 'ObjectID':
      return 'objectId';
    case 'Int32':
    case 'Long':
    case 'Double':
    case 'Decimal128':
      return 'number';
    case 'BSONSymbol':
    case 'Symbol':
      return 'string';
    case 'Binary':
      return 'binData';
    case 'Timestamp':
      return 'timestamp';
    case 'BSONRegExp':
      return 'regex';
    case 'MinKey':
      return 'minKey';
    case 'MaxKey':
      return 'maxKey';
    case 'DBPointer':
      return 'dbPointer';
    case 'Code':
      return (v as { scope?: unknown }).scope ? 'javascriptWithScope' : 'javascript';
    default:
      // DBRef and plain documents are embedded documents.
      return 'object';
  }
}

/** Negative, zero or positive as `a` sorts before, with or after `b` in `_id` order. */
export function compareIds(a: unknown, b: unknown): number {
  const ca = idClass(a);
  const cb = idClass(b);
  if (ca !== cb) return idClassRank(ca) - idClassRank(cb);
  switch (ca) {
    case 'null':
    case 'minKey':
    case 'maxKey':
      return 0;
    case 'number':
      return compareNumbers(numeric(a), numeric(b));
    case 'string':
      return compareBytes(utf8(stringOf(a)), utf8(stringOf(b)));
    case 'object':
      return compareDocuments(entriesOf(a), entriesOf(b));
    case 'array':
      return compareDocuments(
        (a as unknown[]).map((v, i) => [String(i), v]),
        (b as unknown[]).map((v, i) => [String(i), v]),
      );
    case 'binData':
      return compareBinary(a, b);
    case 'objectId':
      return compareBytes(Buffer.from(hexOf(a), 'hex'), Buffer.from(hexOf(b), 'hex'));
    case 'bool':
      return Number(a) - Number(b);
    case 'date':
      return sign((a as Date).getTime() - (b as Date).getTime());
    case 'timestamp': {
      const ta = a as { t: number; i: number };
      const tb = b as { t: number; i: number };
      return ta.t !== tb.t ? sign(ta.t - tb.t) : sign(ta.i - tb.i);
    }
    case 'regex': {
      const [pa, fa] = regexParts(a);
      const [pb, fb] = regexParts(b);
      return compareBytes(utf8(pa), utf8(pb)) || compareBytes(utf8(fa), utf8(fb));
    }
    default:
      // Code, DBPointer: no _id in practice; a stable order by their Extended JSON text.
      return compareBytes(utf8(String((a as { code?: unknown }).code ?? a)), utf8(String((b as { code?: unknown }).code ?? b)));
  }
}

/** The values in `_id` order, each distinct value once (5, 5n and 5.0 are one value, as in MongoDB). */
export function sortDistinctIds(values: readonly unknown[]): unknown[] {
  const sorted = [...values].sort(compareIds);
  return sorted.filter((v, i) => i === 0 || compareIds(sorted[i - 1], v) !== 0);
}

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** A number as MongoDB compares it: exact integers as bigint, anything else as a double; NaN is the smallest number. */
type Numeric = { int: bigint } | { float: number };

function numeric(v: unknown): Numeric {
  if (typeof v === 'bigint') return { int: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { int: BigInt(v) } : { float: v };
  switch (bsonTypeOf(v)) {
    case 'Long':
      return { int: BigInt(String(v)) };
    case 'Int32':
    case 'Double':
      return numeric(Number((v as { value: number }).value));
    case 'Decimal128': {
      const text = String(v);
      if (/^[+-]?\d+$/.test(text)) return { int: BigInt(text) };
      return numeric(Number(text));
    }
    default:
      return { float: Number.NaN };
  }
}

function compareNumbers(a: Numeric, b: Numeric): number {
  if ('int' in a && 'int' in b) return a.int < b.int ? -1 : a.int > b.int ? 1 : 0;
  if ('float' in a && 'float' in b) {
    const x = a.float;
    const y = b.float;
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y) ? 0 : Number.isNaN(x) ? -1 : 1;
    return sign(x - y);
  }
  if ('float' in a) return -compareNumbers(b, a);
  // an integer against a double, exactly (no rounding of a large integer to a double)
  const i = (a as { int: bigint }).int;
  const f = (b as { float: number }).float;
  if (Number.isNaN(f)) return 1;
  if (f === Infinity) return -1;
  if (f === -Infinity) return 1;
  const whole = BigInt(Math.trunc(f));
  if (i !== whole) return i < whole ? -1 : 1;
  const frac = f - Math.trunc(f);
  return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

function stringOf(v: unknown): string {
  return typeof v === 'string' ? v : String((v as { value?: unknown }).value ?? v);
}

function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

/** Byte order (MongoDB compares strings by their UTF-8 bytes, without a collation). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

function hexOf(v: unknown): string {
  return (v as { toHexString(): string }).toHexString();
}

/** BinData: length first, then subtype, then the bytes. */
function compareBinary(a: unknown, b: unknown): number {
  const [ba, sa] = binaryParts(a);
  const [bb, sb] = binaryParts(b);
  return sign(ba.length - bb.length) || sign(sa - sb) || compareBytes(ba, bb);
}

function binaryParts(v: unknown): [Uint8Array, number] {
  if (v instanceof Uint8Array) return [v, 0];
  const bin = v as { buffer: Uint8Array; position: number; sub_type: number };
  return [bin.buffer.subarray(0, bin.position), bin.sub_type];
}

function regexParts(v: unknown): [string, string] {
  if (v instanceof RegExp) return [v.source, v.flags];
  const r = v as { pattern: string; options: string };
  return [r.pattern, r.options];
}

function entriesOf(v: unknown): [string, unknown][] {
  const o = v as Record<string, unknown>;
  if (bsonTypeOf(v) === 'DBRef') {
    const ref = v as { collection: string; oid: unknown; db?: string };
    return [['$ref', ref.collection], ['$id', ref.oid], ...(ref.db ? [['$db', ref.db] as [string, unknown]] : [])];
  }
  return Object.keys(o).map((k) => [k, o[k]]);
}

/** Embedded documents, element by element: the value's type, then the field name, then the value. */
function compareDocuments(a: [string, unknown][], b: [string, unknown][]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const [ka, va] = a[i] as [string, unknown];
    const [kb, vb] = b[i] as [string, unknown];
    const byType = idClassRank(idClass(va)) - idClassRank(idClass(vb));
    if (byType !== 0) return byType;
    const byName = compareBytes(utf8(ka), utf8(kb));
    if (byName !== 0) return byName;
    const byValue = compareIds(va, vb);
    if (byValue !== 0) return byValue;
  }
  return sign(a.length - b.length);
}
