/**
 * The result type shared by every converter, and the small helpers they all use to
 * recognise BSON values without `instanceof` (there may be two copies of `bson` in the
 * process: ours and the driver's).
 */

/**
 * Outcome of converting one source value into one target column kind.
 * - `coercion`: short machine-readable name, present when the value changed representation
 *   (e.g. 'number-from-string', 'date-from-epoch-ms', 'array-from-scalar'). Several
 *   coercions are joined with ',' (only `toJson` and `toTextArray` can produce several).
 * - `reason`: a human sentence naming the problem, e.g. 'not a number: "N/A"'.
 */
export type Conversion<T> =
  | { ok: true; value: T; coercion?: string }
  | { ok: false; reason: string };

export function ok<T>(value: T, coercion?: string): Conversion<T> {
  return coercion === undefined ? { ok: true, value } : { ok: true, value, coercion };
}

export function fail<T = never>(reason: string): Conversion<T> {
  return { ok: false, reason };
}

/** The `_bsontype` tag of a bson wrapper object (ObjectId, Int32, Long, Decimal128…), if any. */
export function bsonTypeOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const tag = (value as { _bsontype?: unknown })._bsontype;
  return typeof tag === 'string' ? tag : undefined;
}

/** bson ObjectId (also 'ObjectID', the tag of bson 1.x). */
export function isObjectIdLike(value: unknown): value is { toHexString(): string; id?: unknown } {
  const t = bsonTypeOf(value);
  return t === 'ObjectId' || t === 'ObjectID';
}

/** A JS Date, from any realm. */
export function isDate(value: unknown): value is Date {
  return Object.prototype.toString.call(value) === '[object Date]';
}

/** The text of a value for a reason sentence, short and never huge. */
export function show(value: unknown): string {
  if (typeof value === 'string') {
    const s = value.length > 60 ? `${value.slice(0, 57)}…` : value;
    return JSON.stringify(s);
  }
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  const t = bsonTypeOf(value);
  if (t !== undefined) {
    let inner = '';
    try {
      inner = t === 'ObjectId' || t === 'ObjectID' ? (value as { toHexString(): string }).toHexString() : String(value);
    } catch {
      // Only builds a reason sentence (pure): a bson value whose toString throws is shown as '?'.
      inner = '?';
    }
    if (inner.length > 60) inner = `${inner.slice(0, 57)}…`;
    return `${t}(${inner})`;
  }
  if (isDate(value)) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  return kindOf(value);
}

/** 'a string', 'a number', 'an object', 'an array', 'a Decimal128'… for reason sentences. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (isDate(value)) return 'a date';
  const t = bsonTypeOf(value);
  if (t !== undefined) return t === 'ObjectID' ? 'an ObjectId' : `${/^[AEIOU]/.test(t) ? 'an' : 'a'} ${t}`;
  if (value instanceof Uint8Array) return 'binary data';
  const type = typeof value;
  if (type === 'object') return 'an object';
  return `a ${type}`;
}

/**
 * Whether a string is well-formed UTF-16 (no lone surrogate), which UTF-8 and PostgreSQL can
 * hold. String.prototype.isWellFormed (ES2024, in Node 20; not in TypeScript's ES2023 library)
 * answers in a sixth of the time of the `\p{Cs}` regex, which loneSurrogateAt keeps to find the offset.
 */
export function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

const LONE_SURROGATE = /\p{Cs}/u;

/** The offset of the first lone surrogate in `s`, or -1 when it is well-formed. */
export function loneSurrogateAt(s: string): number {
  return isWellFormed(s) ? -1 : (LONE_SURROGATE.exec(s)?.index ?? -1);
}
