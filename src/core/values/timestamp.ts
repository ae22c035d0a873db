/**
 * Instants for timestamptz(3) columns, in integer milliseconds, output as ISO-8601 UTC text
 * with exactly 3 fractional digits ('1969-07-20T20:17:40.000Z').
 *
 * Accepted: valid JS Date; numbers, bigint, bson Int32/Double/Long/Decimal128 and strings of
 * digits as epoch milliseconds (coercion 'date-from-epoch-ms'); ISO-8601 strings with 'Z' or
 * an offset (coercion 'date-from-iso-string'); date-only 'YYYY-MM-DD' as UTC midnight
 * (coercion 'date-from-date-only-string'). Rejected: an 8-digit string that is also a valid
 * compact date ('20210304': YYYYMMDD or 5.6 hours of epoch ms?), bson Timestamp (a replication clock, not
 * a date), Invalid Date, fractional milliseconds, sub-millisecond digits that are not zeros,
 * naive date-times without a zone (unless `assumeTimeZone: 'UTC'`), and anything outside
 * years 0001..9999. That range is narrower than PostgreSQL's (4713 BC..294276 AD) on purpose:
 * it keeps the text 4-digit ISO that every consumer parses, avoids BC handling, and a year
 * beyond 9999 in this data is a unit error (epoch microseconds or seconds·1000 read as ms).
 *
 * With `epoch: 'seconds'` (a field whose numbers count seconds), numbers of every type and
 * numeric strings are epoch seconds, to the millisecond (coercions 'date-from-epoch-seconds',
 * 'date-from-epoch-seconds-string'). Without it, an epoch number whose magnitude says seconds
 * (looksLikeEpochSeconds: before 1973 read as milliseconds) is still read as milliseconds, and
 * the mapping reports it ('looks-like-epoch-seconds') so that plan shows it.
 */
import { type Conversion, bsonTypeOf, fail, isDate, kindOf, ok, show } from './conversion.js';
import { type DecimalParts, numberParts, parseDecimalLiteral } from './decimal-text.js';

/** How a field's epoch numbers count: milliseconds (the default) or seconds. */
export type EpochUnit = 'seconds' | 'milliseconds';

export interface TimestampOptions {
  /** Read naive date-times ('2021-03-04T10:00:00') as UTC instead of rejecting them. */
  assumeTimeZone?: 'UTC';
  /** Epoch numbers (and numeric strings) count milliseconds (default) or seconds. */
  epoch?: EpochUnit;
}

/** 0001-01-01T00:00:00.000Z */
export const MIN_TIMESTAMP_MS = -62135596800000;
/** 9999-12-31T23:59:59.999Z */
export const MAX_TIMESTAMP_MS = 253402300799999;

export function toTimestamp(value: unknown, options: TimestampOptions = {}): Conversion<string> {
  if (options.epoch === 'seconds') {
    const seconds = fromEpochSeconds(value);
    if (seconds !== undefined) return seconds;
  }
  if (isDate(value)) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) return fail('is an Invalid Date');
    return fromMs(ms, value, undefined);
  }
  if (typeof value === 'number') return fromEpochNumber(value, value);
  if (typeof value === 'string') return fromString(value, options);
  if (typeof value === 'bigint') return fromEpochDigits(value.toString(), value, 'date-from-epoch-ms');
  switch (bsonTypeOf(value)) {
    case 'Int32':
    case 'Double':
      return fromEpochNumber(Number((value as { value: number }).value), value);
    case 'Long':
      return fromEpochDigits(String(value), value, 'date-from-epoch-ms');
    case 'Decimal128': {
      const r = parseDecimalLiteral(String(value));
      if (typeof r !== 'object') return fail(`${show(value)} is not a date`);
      if (r.parts.frac !== '') return fail(`${show(value)} has a fraction of a millisecond`);
      return fromEpochDigits(`${r.parts.negative ? '-' : ''}${r.parts.int || '0'}`, value, 'date-from-epoch-ms');
    }
    case 'Timestamp':
      return fail('is a BSON Timestamp (the internal replication clock), not a date');
    default:
      return fail(`is ${kindOf(value)}, expected a date`);
  }
}

/**
 * Below this magnitude, epoch milliseconds are within 1973-03-03 of 1970: a value that small in
 * a date field is far more often epoch seconds (1612345678 s = 2021-02-03, as ms 1970-01-19).
 */
export const EPOCH_SECONDS_SUSPECT_BELOW = 1e11;

/** The coercion entry a mapping adds for such a value (`orders.deliveredAt:looks-like-epoch-seconds`): plan reports it. */
export const EPOCH_SECONDS_SUSPECT = 'looks-like-epoch-seconds';

/**
 * Whether a value read as epoch milliseconds looks like epoch seconds: a number (any type) or
 * numeric string, not 0, of magnitude below EPOCH_SECONDS_SUSPECT_BELOW.
 */
export function looksLikeEpochSeconds(value: unknown): boolean {
  const n = epochMagnitude(value);
  return n !== undefined && n !== 0 && Math.abs(n) < EPOCH_SECONDS_SUSPECT_BELOW;
}

function epochMagnitude(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') return /^\s*-?\d+\s*$/.test(value) ? Number(value) : undefined;
  switch (bsonTypeOf(value)) {
    case 'Int32':
    case 'Double':
      return Number((value as { value: number }).value);
    case 'Long':
    case 'Decimal128':
      return Number(String(value));
    default:
      return undefined;
  }
}

/**
 * Epoch seconds → the instant, exactly (no float multiplication): undefined when the value is
 * not a number or numeric string (dates and ISO strings follow the usual rules).
 */
function fromEpochSeconds(value: unknown): Conversion<string> | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return fail(`${show(value)} is not a date`);
    return secondsToInstant(numberParts(value).parts, value, 'date-from-epoch-seconds');
  }
  if (typeof value === 'bigint') return secondsToInstant(partsOf(value.toString()), value, 'date-from-epoch-seconds');
  if (typeof value === 'string') {
    const s = value.trim();
    if (!/^-?\d+(?:\.\d+)?$/.test(s)) return undefined;
    if (s.length === 8 && isCompactDate(s)) return fail(`ambiguous date ${show(value)}: a compact YYYYMMDD date or epoch seconds in 1970`);
    return secondsToInstant(partsOf(s), value, 'date-from-epoch-seconds-string');
  }
  switch (bsonTypeOf(value)) {
    case 'Int32':
    case 'Double': {
      const n = Number((value as { value: number }).value);
      if (!Number.isFinite(n)) return fail(`${show(value)} is not a date`);
      return secondsToInstant(numberParts(n).parts, value, 'date-from-epoch-seconds');
    }
    case 'Long':
      return secondsToInstant(partsOf(String(value)), value, 'date-from-epoch-seconds');
    case 'Decimal128': {
      const r = parseDecimalLiteral(String(value));
      if (typeof r !== 'object') return fail(`${show(value)} is not a date`);
      return secondsToInstant(r.parts, value, 'date-from-epoch-seconds');
    }
    default:
      return undefined;
  }
}

function partsOf(literal: string): DecimalParts {
  const r = parseDecimalLiteral(literal);
  return typeof r === 'object' ? r.parts : { negative: false, int: '', frac: '' };
}

function secondsToInstant(p: DecimalParts, original: unknown, coercion: string): Conversion<string> {
  if (p.frac.length > 3) return fail(`${show(original)} epoch seconds have a fraction of a millisecond`);
  // 12 integer digits of seconds already reach year 33658: beyond, the range check would overflow nothing but say the same.
  if (p.int.length > 12) return rangeFail(original);
  const ms = Number(p.int || '0') * 1000 + Number(p.frac.padEnd(3, '0'));
  return fromMs(p.negative && ms !== 0 ? -ms : ms, original, coercion);
}

function fromEpochNumber(n: number, original: unknown): Conversion<string> {
  if (!Number.isFinite(n)) return fail(`${show(original)} is not a date`);
  if (!Number.isInteger(n)) return fail(`${show(original)} epoch milliseconds have a fraction of a millisecond`);
  return fromMs(n === 0 ? 0 : n, original, 'date-from-epoch-ms');
}

function fromEpochDigits(digits: string, original: unknown, coercion: string): Conversion<string> {
  // Reject by length before converting: the range is 15 digits at most.
  const unsigned = digits.startsWith('-') ? digits.slice(1) : digits;
  if (unsigned.replace(/^0+/, '').length > 16) return rangeFail(original);
  return fromMs(Number(digits), original, coercion);
}

function fromMs(ms: number, original: unknown, coercion: string | undefined): Conversion<string> {
  if (ms < MIN_TIMESTAMP_MS || ms > MAX_TIMESTAMP_MS) return rangeFail(original);
  return ok(isoUtc(ms), coercion);
}

/** The text's template: the separators stay, the digits are written over. */
const isoOut = Buffer.from('0000-00-00T00:00:00.000Z', 'latin1');
/** Where each field's digits go (year, month, day, hour, minute, second, millisecond), and how many. */
const ISO_AT = [0, 5, 8, 11, 14, 17, 20];
const ISO_WIDTH = [4, 2, 2, 2, 2, 2, 3];

/**
 * `new Date(ms).toISOString()` for an integral `ms` of years 0001..9999, a quarter of its
 * cost (every date of every document goes through here): the civil date from the day number
 * (Howard Hinnant's algorithm), its digits written into a buffer read as one latin1 string.
 * The unit suite checks it against toISOString over the whole range.
 */
export function isoUtc(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  const rest = ms - days * 86_400_000;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  const fields = [
    yoe + era * 400 + (month <= 2 ? 1 : 0),
    month,
    doy - Math.floor((153 * mp + 2) / 5) + 1,
    Math.floor(rest / 3_600_000),
    Math.floor(rest / 60_000) % 60,
    Math.floor(rest / 1000) % 60,
    rest % 1000,
  ];
  for (let k = 0; k < fields.length; k++) digits(isoOut, ISO_AT[k] as number, fields[k] as number, ISO_WIDTH[k] as number);
  return isoOut.toString('latin1', 0, 24);
}

function digits(out: Buffer, at: number, n: number, width: number): void {
  for (let i = width - 1; i >= 0; i--) {
    out[at + i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
}

function rangeFail(original: unknown): Conversion<string> {
  return fail(`${show(original)} is outside the supported years 0001..9999`);
}

/** YYYY-MM-DD, then optional [T ]HH:MM[:SS[.fraction]], then optional Z / ±HH[:MM] / ±HHMM. */
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

function fromString(raw: string, options: TimestampOptions): Conversion<string> {
  const s = raw.trim();
  if (s.length === 0) return fail(raw.length === 0 ? 'empty string is not a date' : 'blank string is not a date');
  if (/^-?\d+$/.test(s)) {
    if (s.length === 8 && isCompactDate(s)) {
      return fail(`ambiguous date ${show(raw)}: a compact YYYYMMDD date or epoch milliseconds in January 1970`);
    }
    return fromEpochDigits(s, raw, 'date-from-epoch-ms-string');
  }
  const m = ISO.exec(s);
  if (m === null) return fail(`not an ISO-8601 date: ${show(raw)}`);
  const [, y, mo, d, hh, mi, ss, fraction, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (year < 1) return rangeFail(raw);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return fail(`not a calendar date: ${show(raw)}`);
  }
  const dateOnly = hh === undefined;
  const hour = Number(hh ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(ss ?? 0);
  if (hour > 23 || minute > 59 || second > 59) return fail(`not a valid time of day: ${show(raw)}`);
  let millis = 0;
  if (fraction !== undefined) {
    if (fraction.length > 3 && !/^0+$/.test(fraction.slice(3))) {
      return fail(`${show(raw)} has sub-millisecond precision, timestamptz(3) would round it`);
    }
    millis = Number(fraction.slice(0, 3).padEnd(3, '0'));
  }
  let offsetMinutes = 0;
  if (zone === undefined) {
    if (!dateOnly && options.assumeTimeZone !== 'UTC') {
      return fail(`${show(raw)} has no time zone (a naive date-time is not an instant)`);
    }
  } else if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return fail(`not a valid time zone offset: ${show(raw)}`);
    offsetMinutes = sign * (oh * 60 + om);
  }
  const ms =
    daysFromCivil(year, month, day) * 86_400_000 +
    ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 +
    millis;
  const coercion = dateOnly ? 'date-from-date-only-string' : 'date-from-iso-string';
  return fromMs(ms, raw, coercion);
}

/** 'YYYYMMDD' with a real calendar date in years 1000..9999 (an ISO-8601 basic-format date). */
function isCompactDate(s: string): boolean {
  const y = Number(s.slice(0, 4));
  const m = Number(s.slice(4, 6));
  const d = Number(s.slice(6, 8));
  return y >= 1000 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return isLeap(y) ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm; no Date quirks for years < 100). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}
