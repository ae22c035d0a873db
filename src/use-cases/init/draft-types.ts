/**
 * The column type init drafts for a scalar field, from what the migration's converters
 * accepted during the scan (value-profile.ts): the most specific type that takes every value,
 * or, when a few values cannot be converted, that type with `onInvalid: 'extra'` (the value is
 * kept in legacyExtra) — never a type that would reject documents. Pure.
 */
import type { Candidate, ValueProfile } from './value-profile.js';

export type DraftType =
  | { kind: 'uuid' }
  | { kind: 'text' }
  | { kind: 'int' }
  | { kind: 'bigint' }
  | { kind: 'float' }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'boolean' }
  | { kind: 'timestamp' }
  | { kind: 'json' }
  | { kind: 'enum'; name: string; values: string[] };

export interface TypeDecision {
  type: DraftType;
  /** Values the type cannot take (kept in legacyExtra through onInvalid: 'extra'). */
  invalid: number;
  assumeTimeZone?: 'UTC';
  epoch?: 'seconds';
  /** Why, for the schema comment: `100% Date`, `Decimal(12,2): 98% doubles, 2% decimal strings`. */
  why: string;
  /** The first value refused, when some are. */
  example?: string;
}

/** Share of a field's values a type may fail on and still be chosen (the rest go to legacyExtra). */
export const MAX_INVALID_SHARE = 0.05;
/** Decimal scale beyond which doubles are taken as measurements (Float), not amounts. */
const MAX_AMOUNT_SCALE = 8;
/** Names whose last word says money: unitPrice, deliveryFee, total, adSpend (not totalOrders). */
const MONEY = /(price|amount|total|cost|fee|fees|balance|revenue|budget|spend|salary|tax|discount|profit|paid|payment|subtotal|charge|cash|credit|debit|income|expense|margin|refund|prix|montant)$/i;
const DATE_NAME = /(At|_at|date|Date|time|Time|_on|On)$/;

const pct = (n: number, of: number) => `${of === 0 ? 0 : Math.round((n / of) * 1000) / 10}%`;

/** The type of a field whose non-null values are scalars (`name` is the source key, for the money and date hints). */
export function decideScalarType(p: ValueProfile, name: string): TypeDecision {
  const n = p.scalars;
  if (p.ok.uuid === n) {
    const dbRefs = p.types.dbRef ?? 0;
    return { type: { kind: 'uuid' }, invalid: 0, why: dbRefs > 0 ? `100% ObjectId (${pct(dbRefs, n)} as the $id of a DBRef)` : `100% ObjectId` };
  }
  if ((p.types.bool ?? 0) === n) return { type: { kind: 'boolean' }, invalid: 0, why: `100% booleans` };
  const dates = (p.types.date ?? 0) + p.dateStrings;
  // Epoch numbers among dates (a date-named field) count as dates: the converter reads them.
  if (dates > 0 && dates + (DATE_NAME.test(name) ? p.numbers : 0) >= 0.9 * n) return dateType(p, n);
  if (p.numbers > 0 && DATE_NAME.test(name) && p.numbers >= 0.9 * n && !MONEY.test(name)) return epochType(p, n);
  if (p.numbers + p.numericStrings >= 0.9 * n && (p.numbers >= 0.5 * n || MONEY.test(name))) return numericType(p, n, name);
  return textType(p, n);
}

function accept(p: ValueProfile, c: Candidate, type: DraftType, why: string, extra: Partial<TypeDecision> = {}): TypeDecision | undefined {
  const invalid = p.scalars - p.ok[c];
  // NaN and ±Infinity fit no numeric column (nor JSON), however many there are: they go to
  // legacyExtra (as Extended JSON) whatever the numeric type, and do not count against it.
  const tolerated = c === 'float' || c === 'decimal' || c === 'int' || c === 'bigint' ? p.nonFinite : 0;
  if (invalid - tolerated > MAX_INVALID_SHARE * p.scalars) return undefined;
  return { type, invalid, why: invalid > 0 ? `${why}; ${invalid} value(s) it cannot take go to legacyExtra` : why, ...(invalid > 0 && p.refused[c] ? { example: p.refused[c] } : {}), ...extra };
}

function dateType(p: ValueProfile, n: number): TypeDecision {
  const dates = p.types.date ?? 0;
  const why = p.dateStrings > 0 ? `date-times: ${pct(dates, n)} Date, ${pct(p.dateStrings, n)} ISO strings` : `100% Date`;
  const epoch = p.numbers > 0 ? ` and ${pct(p.numbers, n)} epoch numbers` : '';
  if (p.numbers > 0 && p.intDigits >= 9 && p.intDigits <= 10) {
    const seconds = accept(p, 'epochSeconds', { kind: 'timestamp' }, `${why}${epoch} in seconds (${p.intDigits} digits)`, { epoch: 'seconds' });
    if (seconds) return seconds;
  }
  if (p.ok.timestamp === n) return { type: { kind: 'timestamp' }, invalid: 0, why: `${why}${epoch}` };
  const utc = p.ok.timestampUtc > p.ok.timestamp ? accept(p, 'timestampUtc', { kind: 'timestamp' }, `${why}, ${p.ok.timestampUtc - p.ok.timestamp} without a time zone (read as UTC)`, { assumeTimeZone: 'UTC' }) : undefined;
  return utc ?? accept(p, 'timestamp', { kind: 'timestamp' }, why) ?? textType(p, n);
}

function epochType(p: ValueProfile, n: number): TypeDecision {
  // Epoch numbers in a date-named field: seconds when every one reads as a date in seconds but not in milliseconds' plausible range.
  const secondsLike = p.intDigits <= 10 && p.intDigits >= 9;
  if (secondsLike) return accept(p, 'epochSeconds', { kind: 'timestamp' }, `epoch seconds (${p.intDigits} digits) in a date field`, { epoch: 'seconds' }) ?? numericType(p, n, '');
  if (p.intDigits >= 12 && p.intDigits <= 13) return accept(p, 'timestamp', { kind: 'timestamp' }, `epoch milliseconds in a date field`) ?? numericType(p, n, '');
  return numericType(p, n, '');
}

function numericType(p: ValueProfile, n: number, name: string): TypeDecision {
  const mix = [p.numbers > 0 ? `${pct(p.numbers, n)} numbers` : '', p.numericStrings > 0 ? `${pct(p.numericStrings, n)} numeric strings` : '', p.decimal128 > 0 ? `${p.decimal128} Decimal128` : ''].filter(Boolean).join(', ');
  const money = MONEY.test(name);
  // Decimal128 is exact by the application's own choice: Decimal whatever the scale (a Float
  // would round 0.123456789, an Int would refuse the 99.50 that follows "123.00").
  if (p.decimal128 > 0) return decimalType(p, mix, money) ?? textType(p, n);
  if (p.scale === 0 && !money) {
    return accept(p, 'int', { kind: 'int' }, `integers within 32 bits (${mix})`) ?? accept(p, 'bigint', { kind: 'bigint' }, `integers beyond 32 bits (${mix})`) ?? decimalType(p, mix, false) ?? textType(p, n);
  }
  const exact = money || p.numericStrings > 0;
  if (exact && p.scale <= MAX_AMOUNT_SCALE) return decimalType(p, mix, money) ?? textType(p, n);
  return accept(p, 'float', { kind: 'float' }, `doubles (${mix}, up to ${p.scale} decimals: a measurement, not an amount)`) ?? decimalType(p, mix, money) ?? textType(p, n);
}

function decimalType(p: ValueProfile, mix: string, money: boolean): TypeDecision | undefined {
  const scale = Math.max(p.scale, money ? 2 : 0);
  // Two more integer digits than the largest value seen leaves room for growth without changing the type.
  const precision = Math.min(1000, Math.max(p.intDigits + 2, 1) + scale);
  return accept(p, 'decimal', { kind: 'decimal', precision, scale }, `exact decimals (${mix}; up to ${p.intDigits} integer digits and ${p.scale} decimals seen)`);
}

function textType(p: ValueProfile, n: number): TypeDecision {
  const text = accept(p, 'text', { kind: 'text' }, p.numbers + p.numericStrings + p.dateStrings > 0 && p.numbers > 0 ? `mixed values, kept as text` : `strings`);
  if (text) return text;
  return { type: { kind: 'json' }, invalid: 0, why: `values of several kinds (${n}), kept as JSON` };
}

const ENUM_VALUE = /^[A-Za-z][A-Za-z0-9_]{0,40}$/;
const NOT_ENUM_NAME = /(id|Id|ID|key|Key|name|Name|email|Email|code|Code|title|Title|phone|Phone|url|Url|note|Note|description|text|Text|sku|SKU|Sku|slug|Slug|ref|Ref|hash|Hash|token|Token|password|Password|label|Label)s?$/;

/** An enum for a small closed set of strings: at most 8 values, each seen several times, valid identifiers, in a field not named like free text or a key. */
export function enumValues(p: ValueProfile, name: string, decision: TypeDecision): string[] | undefined {
  if (decision.type.kind !== 'text' || decision.invalid > 0 || !p.strings || p.strings.size < 2 || p.strings.size > 8) return undefined;
  if (NOT_ENUM_NAME.test(name) || p.scalars < 10 * p.strings.size) return undefined;
  const values = [...p.strings].sort();
  return values.every((v) => ENUM_VALUE.test(v)) ? values : undefined;
}
