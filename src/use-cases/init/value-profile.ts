/**
 * What init learns about the values of one field path, beside the type histogram: how many
 * of them each candidate column type converts — with the migration's own converters, so a
 * drafted type is one `migrate` accepts — the digits decimals need, the distinct values (for
 * uniqueness and references) and the small sets of strings (for enums). Pure, no I/O.
 */
import { sourceIdKey, parseReference } from '../../core/ids.js';
import { bsonTypeOf, isDate, isObjectIdLike, toBigInt, toBoolean, toDecimal, toFloat8, toInt32, toText, toTimestamp } from '../../core/values/index.js';
import { DEFAULT_PATH_CAP, bsonTypeName, walkDocument, type BsonTypeName } from '../../core/type-histogram.js';
import { PLAIN_DECIMAL } from '../../core/values/text.js';

/** The column types a scalar value is tried against. */
export const CANDIDATES = ['text', 'int', 'bigint', 'decimal', 'float', 'boolean', 'timestamp', 'timestampUtc', 'epochSeconds', 'uuid'] as const;
export type Candidate = (typeof CANDIDATES)[number];

/** Most distinct values kept per path; beyond it uniqueness and references are not judged. */
export const DISTINCT_CAP = 300_000;
/** Most distinct strings kept for an enum; beyond it the field is free text. */
const ENUM_CAP = 12;

const DATE_LIKE = /^\d{4}-\d{1,2}-\d{1,2}/;
const NUMBER_LIKE = /^\s*[-+]?[\d\s.,']*\d[\d\s.,']*\s*$/;
const NUMERIC: ReadonlySet<BsonTypeName> = new Set(['int', 'long', 'double', 'decimal', 'number']);

export interface ValueProfile {
  /** Non-null scalar values seen (objects and arrays are the histogram's business). */
  scalars: number;
  /** Scalar values per BSON type (as migrate decodes: Int32 and Double are both `number`). */
  types: Partial<Record<BsonTypeName, number>>;
  /** Scalar values each candidate converts. */
  ok: Record<Candidate, number>;
  /** The first value each candidate refused, for the comment saying why. */
  refused: Partial<Record<Candidate, string>>;
  /** Largest integer digits and fractional digits among values read as exact decimals. */
  intDigits: number;
  scale: number;
  /** Values that are numbers in BSON, and strings that read as numbers / date-times. */
  numbers: number;
  numericStrings: number;
  dateStrings: number;
  decimal128: number;
  /** Numbers that are NaN or ±Infinity: no column type but JSON's refuses them less, and JSON refuses them too. */
  nonFinite: number;
  /** Distinct values (reference keys) and their occurrences; undefined once over DISTINCT_CAP. */
  distinct: Map<string, number> | undefined;
  /** The document's `_id`: its distinct values are kept whatever their number. */
  isId: boolean;
  /** Distinct strings when few (enum candidates); undefined when too many or not only strings. */
  strings: Set<string> | undefined;
}

function newProfile(path: string): ValueProfile {
  const ok = Object.fromEntries(CANDIDATES.map((c) => [c, 0])) as Record<Candidate, number>;
  return { scalars: 0, types: {}, ok, refused: {}, intDigits: 0, scale: 0, numbers: 0, numericStrings: 0, dateStrings: 0, decimal128: 0, nonFinite: 0, distinct: new Map(), isId: path === '_id', strings: new Set() };
}

/** The key under which a value is found among another collection's `_id`s or unique values (hex strings as ObjectIds, numbers by value). */
export function referenceKey(value: unknown): string {
  const ref = parseReference(value);
  return ref?.kind === 'objectId' ? `oid:${ref.hex}` : sourceIdKey(value);
}

/** Profiles of every scalar path of a collection, fed one document at a time (decoded as migrate decodes). */
export class ValueProfiler {
  readonly paths = new Map<string, ValueProfile>();

  observe(doc: Readonly<Record<string, unknown>>): void {
    walkDocument(doc, (path, _parent, value, type) => {
      if (type === 'null' || type === 'object' || type === 'array' || type === 'undefined') return;
      let p = this.paths.get(path);
      if (!p) {
        // Objects keyed by data (ids as keys) would make a profile per key: past the histogram's cap they are JSON anyway.
        if (this.paths.size >= DEFAULT_PATH_CAP) return;
        p = newProfile(path);
        this.paths.set(path, p);
      }
      addValue(p, value, type);
    });
  }
}

function addValue(p: ValueProfile, value: unknown, type: BsonTypeName): void {
  p.scalars++;
  p.types[type] = (p.types[type] ?? 0) + 1;
  if (type === 'decimal') p.decimal128++;
  if (isNonFinite(value)) p.nonFinite++;
  const tried = triedCandidates(value, type, p);
  for (const c of tried) {
    const r = convert(c, value);
    if (r.ok) {
      p.ok[c]++;
      // A Decimal128's own text keeps its scale ("123.00"), which the converted value may drop.
      if (c === 'decimal') digitsOf(p, type === 'decimal' ? declaredDecimal(value, r.value) : r.value);
    } else p.refused[c] ??= describe(value, r.reason);
  }
  // The first value a candidate was not even tried on is its example too (a word where numbers are).
  for (const c of CANDIDATES) if (p.refused[c] === undefined && !tried.includes(c)) p.refused[c] = describe(value, `is a ${type}`);
  trackDistinct(p, value, type);
  if (p.strings !== undefined) {
    if (typeof value !== 'string') p.strings = undefined;
    else {
      p.strings.add(value);
      if (p.strings.size > ENUM_CAP) p.strings = undefined;
    }
  }
}

/** Only the candidates a value of this BSON type could convert to: the rest count as refusals without being tried. */
function triedCandidates(value: unknown, type: BsonTypeName, p: ValueProfile): Candidate[] {
  if (NUMERIC.has(type)) {
    p.numbers++;
    return ['text', 'int', 'bigint', 'decimal', 'float', 'timestamp', 'epochSeconds', 'boolean'];
  }
  if (type === 'string') {
    const s = value as string;
    const out: Candidate[] = ['text'];
    if (DATE_LIKE.test(s)) {
      p.dateStrings++;
      out.push('timestamp', 'timestampUtc', 'epochSeconds');
    } else if (NUMBER_LIKE.test(s)) {
      p.numericStrings++;
      out.push('int', 'bigint', 'decimal', 'float');
    } else if (s.length <= 5) out.push('boolean');
    return out;
  }
  if (type === 'date') return ['text', 'timestamp', 'timestampUtc', 'epochSeconds'];
  if (type === 'bool') return ['text', 'boolean'];
  // A DBRef ({ $ref, $id }) is a reference to its $id: a UUID column when that is an ObjectId.
  if (type === 'objectId' || type === 'dbRef') return ['text', 'uuid'];
  return ['text'];
}

function convert(c: Candidate, value: unknown): { ok: true; value: string } | { ok: false; reason: string } {
  switch (c) {
    case 'text':
      return toText(value, { nul: 'reject' });
    case 'int':
      return toInt32(value);
    case 'bigint':
      return toBigInt(value);
    case 'decimal':
      return toDecimal(value, { precision: 1000, scale: 500 });
    case 'float':
      return toFloat8(value);
    case 'boolean':
      return toBoolean(value) as { ok: true; value: string } | { ok: false; reason: string };
    case 'timestamp':
      return toTimestamp(value);
    case 'timestampUtc':
      return toTimestamp(value, { assumeTimeZone: 'UTC' });
    case 'epochSeconds':
      return toTimestamp(value, { epoch: 'seconds' });
    case 'uuid':
      return isObjectIdLike(value) || (bsonTypeOf(value) === 'DBRef' && isObjectIdLike((value as { oid?: unknown }).oid)) ? { ok: true, value: '' } : { ok: false, reason: 'is not an ObjectId' };
  }
}

/** NaN or ±Infinity, as a JS number or a BSON Double / Decimal128. */
function isNonFinite(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  const t = (value as { _bsontype?: unknown } | null)?._bsontype;
  if (t === 'Double') return !Number.isFinite((value as { value: number }).value);
  return t === 'Decimal128' && /^-?(NaN|Inf)/i.test(String(value));
}

/** A Decimal128 written as plain digits ("123.00"), else the converter's text. */
function declaredDecimal(value: unknown, converted: string): string {
  const own = String(value);
  return PLAIN_DECIMAL.test(own) ? own : converted;
}

function digitsOf(p: ValueProfile, text: string): void {
  const [int = '', frac = ''] = text.replace(/^-/, '').split('.');
  p.intDigits = Math.max(p.intDigits, int === '0' ? 0 : int.length);
  p.scale = Math.max(p.scale, frac.length);
}

function trackDistinct(p: ValueProfile, value: unknown, type: BsonTypeName): void {
  if (p.distinct === undefined) return;
  // Dates, booleans and fractional numbers are never keys.
  if (type === 'date' || type === 'bool' || isDate(value) || type === 'double' || type === 'decimal') return;
  if (typeof value === 'number' && !Number.isInteger(value)) return;
  const key = referenceKey(value);
  p.distinct.set(key, (p.distinct.get(key) ?? 0) + 1);
  // Every `_id` is kept: they are what references are found among.
  if (p.distinct.size > DISTINCT_CAP && !p.isId) p.distinct = undefined;
}

function describe(value: unknown, reason: string): string {
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : bsonTypeName(value);
  return `${shown}: ${reason}`.slice(0, 160);
}
