/**
 * Text (text / varchar(n)), text arrays (text[]), booleans and enums.
 *
 * Strings are kept exactly: no trim, no Unicode normalization. PostgreSQL text cannot hold
 * NUL (U+0000) nor invalid UTF-16 (lone surrogates would be silently turned into U+FFFD by
 * the UTF-8 encoder), so both are rejected; NUL may instead be replaced by U+FFFD on request.
 * Offsets in reasons are JS string indexes (UTF-16 code units).
 */
import { type Conversion, bsonTypeOf, fail, isDate, isObjectIdLike, kindOf, loneSurrogateAt, ok, show } from './conversion.js';
import { formatDecimal, parseDecimalLiteral } from './decimal-text.js';

export interface TextOptions {
  /** varchar(n): maximum length in Unicode code points (what PostgreSQL counts). Never truncates. */
  maxLength?: number;
  /** What to do with NUL characters: reject (default) or replace by U+FFFD (coercion 'nul-replaced'). */
  nul?: 'reject' | 'replace';
}

const ANY_SURROGATE_OR_NUL = /[\u0000\uD800-\uDFFF]/;

/** Checks a string for NUL / lone surrogates and length; undefined reason means it is fine. */
function checkString(s: string, options: TextOptions): { value: string; coercion?: string } | { reason: string } {
  let value = s;
  let coercion: string | undefined;
  if (ANY_SURROGATE_OR_NUL.test(s)) {
    const nulAt = s.indexOf('\u0000');
    if (nulAt >= 0) {
      if (options.nul !== 'replace') {
        return { reason: `contains NUL character at offset ${nulAt} (PostgreSQL text cannot store it)` };
      }
      value = s.replaceAll('\u0000', '\uFFFD');
      coercion = 'nul-replaced';
    }
    const lone = loneSurrogateAt(value);
    if (lone >= 0) {
      const code = value.charCodeAt(lone).toString(16).toUpperCase();
      return {
        reason: `contains a lone surrogate U+${code} at offset ${lone} (invalid Unicode, PostgreSQL cannot store it)`,
      };
    }
  }
  const max = options.maxLength;
  if (max !== undefined && value.length > max) {
    const length = codePointLength(value);
    if (length > max) return { reason: `is ${length} characters long, column allows ${max}` };
  }
  return coercion === undefined ? { value } : { value, coercion };
}

/** Number of Unicode code points (a surrogate pair counts 1), as PostgreSQL counts characters. */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/**
 * Text. Strings are exact. Numbers (and bson numeric types), booleans, ObjectIds (24-hex)
 * and valid Dates (ISO-8601 with ms) become text with a coercion; objects, arrays and binary
 * are rejected so the caller can route them elsewhere (e.g. jsonb).
 */
/** A decimal written as plain digits, without exponent: `-12.50`. */
export const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;

export function toText(value: unknown, options: TextOptions = {}): Conversion<string> {
  let text: string;
  let coercion: string | undefined;
  if (typeof value === 'string') {
    text = value;
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) return fail(`${String(value)} is not text`);
    text = String(value);
    coercion = 'text-from-number';
  } else if (typeof value === 'bigint') {
    text = value.toString();
    coercion = 'text-from-number';
  } else if (typeof value === 'boolean') {
    text = String(value);
    coercion = 'text-from-boolean';
  } else if (isObjectIdLike(value)) {
    text = value.toHexString();
    coercion = 'text-from-objectid';
  } else if (isDate(value)) {
    if (Number.isNaN(value.getTime())) return fail('is an Invalid Date, expected text');
    text = value.toISOString();
    coercion = 'text-from-date';
  } else {
    const t = bsonTypeOf(value);
    if (t === 'Int32' || t === 'Double') return toText((value as { value: number }).value, options);
    if (t === 'Long') {
      text = String(value);
      coercion = 'text-from-number';
    } else if (t === 'Decimal128') {
      const own = String(value);
      const r = parseDecimalLiteral(own);
      if (typeof r !== 'object') return fail(`${show(value)} is not text`);
      // Its own digits when plain ("692.10" stays 692.10: the scale is part of the value written);
      // an exponent form as plain digits ("1.5E+3" → 1500).
      text = PLAIN_DECIMAL.test(own) && !r.negativeZero ? own : formatDecimal(r.parts);
      coercion = 'text-from-number';
    } else {
      return fail(`is ${kindOf(value)}, expected text`);
    }
  }
  const r = checkString(text, options);
  if ('reason' in r) return fail(r.reason);
  const all = [coercion, r.coercion].filter((c) => c !== undefined).join(',');
  return ok(r.value, all === '' ? undefined : all);
}

/**
 * text[]: an array of strings (each checked as by toText, elements must be strings, nulls
 * are rejected because Prisma String[] has no null elements); a single string becomes a
 * one-element array (coercion 'array-from-scalar'); an empty array is fine.
 */
export function toTextArray(value: unknown, options: TextOptions = {}): Conversion<string[]> {
  if (typeof value === 'string') {
    const r = checkString(value, options);
    if ('reason' in r) return fail(r.reason);
    return ok([r.value], r.coercion === undefined ? 'array-from-scalar' : `array-from-scalar,${r.coercion}`);
  }
  if (!Array.isArray(value)) return fail(`is ${kindOf(value)}, expected an array of text`);
  const out = new Array<string>(value.length);
  let coercion: string | undefined;
  for (let i = 0; i < value.length; i++) {
    const el: unknown = value[i];
    if (typeof el !== 'string') return fail(`element ${i} is ${kindOf(el)}, expected text`);
    const r = checkString(el, options);
    if ('reason' in r) return fail(`element ${i} ${r.reason}`);
    out[i] = r.value;
    if (r.coercion !== undefined) coercion = r.coercion;
  }
  return ok(out, coercion);
}

const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no']);

/** Booleans; 'true'/'false'/'1'/'0'/'yes'/'no' (trimmed, any case) and the numbers 1/0 with a coercion. */
export function toBoolean(value: unknown): Conversion<boolean> {
  if (typeof value === 'boolean') return ok(value);
  if (typeof value === 'string') {
    const w = value.trim().toLowerCase();
    if (TRUE_WORDS.has(w)) return ok(true, 'boolean-from-string');
    if (FALSE_WORDS.has(w)) return ok(false, 'boolean-from-string');
    return fail(`not a boolean: ${show(value)}`);
  }
  let n: number | bigint | undefined;
  if (typeof value === 'number' || typeof value === 'bigint') n = value;
  else {
    const t = bsonTypeOf(value);
    if (t === 'Int32' || t === 'Double') n = Number((value as { value: number }).value);
    else if (t === 'Long') n = BigInt(String(value));
    else if (t === 'Decimal128') {
      const r = parseDecimalLiteral(String(value));
      if (typeof r === 'object' && r.parts.frac === '' && (r.parts.int === '' || r.parts.int === '1') && !r.parts.negative) {
        return ok(r.parts.int === '1', 'boolean-from-number');
      }
      return fail(`${show(value)} is not a boolean (only 1 and 0 are)`);
    } else return fail(`is ${kindOf(value)}, expected a boolean`);
  }
  // eslint-disable-next-line eqeqeq -- number/bigint comparison
  if (n == 1) return ok(true, 'boolean-from-number');
  // eslint-disable-next-line eqeqeq
  if (n == 0) return ok(false, 'boolean-from-number');
  return fail(`${show(value)} is not a boolean (only 1 and 0 are)`);
}

const enumKeys = new WeakMap<readonly string[], Map<string, string | null>>();

function enumKey(s: string): string {
  return s.toLowerCase().replace(/\s+/g, '');
}

/**
 * One of `allowed`: an exact match; else a match ignoring case and whitespace (coercion
 * 'enum-normalized', only when exactly one allowed value matches); else rejected with the
 * list of allowed values.
 */
export function toEnum<E extends string>(value: unknown, allowed: readonly E[]): Conversion<E> {
  const list = `expected one of: ${allowed.join(', ')}`;
  if (typeof value !== 'string') return fail(`is ${kindOf(value)}, ${list}`);
  if ((allowed as readonly string[]).includes(value)) return ok(value as E);
  let keys = enumKeys.get(allowed);
  if (keys === undefined) {
    keys = new Map();
    for (const a of allowed) {
      const k = enumKey(a);
      keys.set(k, keys.has(k) ? null : a); // null: two allowed values collide, ambiguous
    }
    enumKeys.set(allowed, keys);
  }
  const match = keys.get(enumKey(value));
  if (match !== undefined && match !== null) return ok(match as E, 'enum-normalized');
  return fail(`${show(value)} is not an allowed value, ${list}`);
}
