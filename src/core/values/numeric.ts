/**
 * Numbers: exact decimal (PostgreSQL numeric), Int (int4), BigInt (int8) and Float (float8).
 *
 * Accepted inputs: JS number, bigint, bson Int32 / Double / Long / Decimal128 (by
 * `_bsontype`), and numeric strings (see decimal-text.ts for the grammar). Strings, Long,
 * Decimal128 and bigint never go through a JS float. A JS number means its shortest
 * round-trip representation (`String(n)`): 0.1 is "0.1", 1e21 is "1000000000000000000000".
 * NaN and ±Infinity are always rejected; -0 becomes 0 with coercion 'negative-zero'.
 */
import { type Conversion, bsonTypeOf, fail, kindOf, ok, show } from './conversion.js';
import {
  type DecimalParts,
  formatDecimal,
  numberParts,
  parseDecimalLiteral,
  parseNumericString,
  precisionProblem,
} from './decimal-text.js';

export interface DecimalOptions {
  /** Total significant digits of numeric(p, s). */
  precision: number;
  /** Digits after the decimal point of numeric(p, s). */
  scale: number;
}

type Exact = { parts: DecimalParts; coercion?: string } | { reason: string };

/** The exact decimal value of any numeric-looking input, or why there is none. */
function exactParts(value: unknown, fromDecimal128Coercion?: string): Exact {
  if (typeof value === 'number') return fromNumber(value);
  if (typeof value === 'bigint') return fromLiteral(value.toString(), value);
  if (typeof value === 'string') {
    const r = parseNumericString(value);
    if ('reason' in r) return r;
    const coercion = r.localized ? 'number-from-localized-string' : 'number-from-string';
    return { parts: r.parts, coercion: r.negativeZero ? `${coercion},negative-zero` : coercion };
  }
  switch (bsonTypeOf(value)) {
    case 'Int32':
    case 'Double':
      return fromNumber(Number((value as { value: number }).value));
    case 'Long':
      return fromLiteral(String(value), value);
    case 'Decimal128': {
      const text = String(value);
      if (text === 'NaN' || text === 'Infinity' || text === '-Infinity') {
        return { reason: `Decimal128 ${text} cannot be stored as an exact decimal` };
      }
      const r = fromLiteral(text, value);
      if ('parts' in r && fromDecimal128Coercion !== undefined) {
        r.coercion = r.coercion === undefined ? fromDecimal128Coercion : `${fromDecimal128Coercion},${r.coercion}`;
      }
      return r;
    }
    default:
      return { reason: `${describe(value)}, expected a number` };
  }
}

function describe(value: unknown): string {
  const kind = kindOf(value);
  return typeof value === 'boolean' ? `is a boolean (${String(value)})` : `is ${kind}`;
}

function fromNumber(n: number): Exact {
  if (!Number.isFinite(n)) return { reason: `${String(n)} cannot be stored as an exact decimal` };
  const r = numberParts(n);
  return r.negativeZero ? { parts: r.parts, coercion: 'negative-zero' } : { parts: r.parts };
}

function fromLiteral(text: string, original: unknown): Exact {
  const r = parseDecimalLiteral(text);
  if (typeof r !== 'object') return { reason: `not a number: ${show(original)}` };
  return r.negativeZero ? { parts: r.parts, coercion: 'negative-zero' } : { parts: r.parts };
}

/**
 * Exact decimal text for a numeric(precision, scale) column. Rejects (never rounds) a value
 * with more fractional digits than `scale` (trailing zeros do not count: "12.5000" fits
 * scale 4) or more integer digits than precision − scale. The text is normalized: no
 * exponent, no leading zeros, no trailing fractional zeros ("1.23E+5" → "123000").
 * A double such as 0.1 + 0.2 (0.30000000000000004) is rejected for scale 4: it has 17
 * decimal places, and rounding it would be a silent change.
 */
export function toDecimal(value: unknown, options: DecimalOptions): Conversion<string> {
  const { precision, scale } = options;
  if (!Number.isInteger(precision) || !Number.isInteger(scale) || precision < 1 || scale < 0 || scale > precision) {
    throw new RangeError(`invalid numeric(${precision},${scale})`);
  }
  const r = exactParts(value);
  if ('reason' in r) return fail(r.reason);
  const problem = precisionProblem(r.parts, precision, scale);
  if (problem !== undefined) return fail(`${show(value)} ${problem}`);
  return ok(formatDecimal(r.parts), r.coercion);
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * A 32-bit integer (PostgreSQL integer / Prisma Int) as decimal text. Integral values only: a string "3.0"
 * or a Decimal128 3.00 is accepted as 3 (coercion noted), "3.5" is rejected.
 */
export function toInt32(value: unknown): Conversion<string> {
  if (typeof value === 'number' && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX) {
    return Object.is(value, -0) ? ok('0', 'negative-zero') : ok(String(value));
  }
  const r = integerText(value);
  if ('reason' in r) return fail(r.reason);
  const n = BigInt(r.text);
  if (n < BigInt(INT32_MIN) || n > BigInt(INT32_MAX)) {
    return fail(`${show(value)} is out of range for a 32-bit integer (${INT32_MIN} to ${INT32_MAX})`);
  }
  return ok(r.text, r.coercion);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * A 64-bit integer (PostgreSQL bigint / Prisma BigInt) as decimal text. Long, bigint,
 * Decimal128 and strings stay exact. A JS number beyond ±2^53 is rejected: it is a double
 * whose integer digits may already have been rounded, so its exact value cannot be trusted.
 */
export function toBigInt(value: unknown): Conversion<string> {
  if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) {
    return fail(`${show(value)} is a floating-point number beyond ±2^53: its integer digits cannot be trusted as exact`);
  }
  const r = integerText(value);
  if ('reason' in r) return fail(r.reason);
  const n = BigInt(r.text);
  if (n < INT64_MIN || n > INT64_MAX) {
    return fail(`${show(value)} is out of range for a 64-bit integer (${INT64_MIN} to ${INT64_MAX})`);
  }
  return ok(r.text, r.coercion);
}

function integerText(value: unknown): { text: string; coercion?: string } | { reason: string } {
  const r = exactParts(value, 'integer-from-decimal128');
  if ('reason' in r) return r;
  if (r.parts.frac !== '') return { reason: `${show(value)} is not an integer` };
  const text = formatDecimal(r.parts);
  return r.coercion === undefined ? { text } : { text, coercion: r.coercion };
}

/**
 * A double precision value (Prisma Float) as text: the shortest round-trip repr (String(n),
 * e.g. '0.1', '1e+21'), which PostgreSQL reads back to the very same double; -0 → '-0'.
 * A JS number (and bson Int32/Double) is kept exactly, -0 included. NaN and ±Infinity are rejected: PostgreSQL could store them, but
 * JSON and most clients turn them into null. Long/bigint are accepted when the double holds
 * the integer exactly. Decimal128 and strings are accepted when the decimal text is what the
 * nearest double prints back (String(Number(x)) gives the same decimal): "0.1" is accepted
 * (that is what a double 0.1 means), "0.10000000000000000001" is rejected (it would round).
 */
export function toFloat8(value: unknown): Conversion<string> {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return fail(`${String(value)} is not a finite number`);
    return ok(Object.is(value, -0) ? '-0' : String(value));
  }
  const t = bsonTypeOf(value);
  if (t === 'Int32' || t === 'Double') return toFloat8(Number((value as { value: number }).value));
  if (typeof value === 'bigint' || t === 'Long') {
    const big = typeof value === 'bigint' ? value : BigInt(String(value));
    const n = Number(big);
    if (BigInt(n) !== big) return fail(`${show(value)} is not exactly representable as a double`);
    return ok(String(n));
  }
  const r = exactParts(value, 'float-from-decimal128');
  if ('reason' in r) return fail(r.reason);
  const text = formatDecimal(r.parts);
  const n = Number(text);
  if (!Number.isFinite(n)) return fail(`${show(value)} is out of range for a double`);
  if (formatDecimal(numberParts(n).parts) !== text) {
    return fail(`${show(value)} is not exactly representable as a double (it would become ${String(n)})`);
  }
  return ok(String(n), r.coercion);
}
