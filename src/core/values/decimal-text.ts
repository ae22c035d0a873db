/**
 * Exact decimal text, never through a JS float: parsing of decimal literals (with exponent),
 * of human-formatted numeric strings ("12 500", "12,5", "1.234,56"), and precision checks.
 *
 * Rules for human-formatted strings (after trimming, optional leading + or -):
 * - A plain literal (`12500`, `-3.5`, `.5`, `12.`, `1.5e3`) is read as is. A single '.' is
 *   therefore always a decimal point ("12.500" = 12.5): it is the machine format every
 *   program writes.
 * - Spaces (U+0020, U+00A0 no-break, U+202F narrow no-break, U+2009 thin) are thousands
 *   separators only: the first group has 1-3 digits, every further group exactly 3, and
 *   only in the integer part.
 * - Both '.' and ',' present: the one that comes last is the decimal separator (it must
 *   appear once), the other the thousands separator ("1.234,56" and "1,234.56" = 1234.56).
 * - Only ',' present: several commas are thousands separators ("1,234,567"); a single comma
 *   is a decimal separator ("12,5") unless it is followed by exactly 3 digits and preceded
 *   by 1-3 digits not starting with 0 ("12,500"): that one is ambiguous (12.5 or 12500) and
 *   is rejected. With space grouping also present, the comma is the decimal separator.
 * - Several '.' and no ',' are thousands separators ("1.234.567").
 * - Anything else (currency symbols, letters, "N/A", "", "Infinity", hex) is not a number.
 */

/** A decimal number: `int` has no leading zeros ('' for 0), `frac` no trailing zeros. */
export interface DecimalParts {
  negative: boolean;
  int: string;
  frac: string;
}

/** Largest |exponent| accepted in a literal: covers every Decimal128 (±6176 + 34 digits). */
const MAX_EXPONENT = 10_000;

export type LiteralParse = { parts: DecimalParts; negativeZero: boolean } | 'syntax' | 'exponent';

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Parses `[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?` exactly. */
export function parseDecimalLiteral(s: string): LiteralParse {
  const n = s.length;
  let i = 0;
  let negative = false;
  if (i < n && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) {
    negative = s.charCodeAt(i) === 45;
    i++;
  }
  const intStart = i;
  while (i < n && isDigit(s.charCodeAt(i))) i++;
  const intDigits = s.slice(intStart, i);
  let fracDigits = '';
  if (i < n && s.charCodeAt(i) === 46) {
    i++;
    const fracStart = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    fracDigits = s.slice(fracStart, i);
  }
  if (intDigits.length === 0 && fracDigits.length === 0) return 'syntax';
  let exp = 0;
  if (i < n && (s.charCodeAt(i) === 101 || s.charCodeAt(i) === 69)) {
    i++;
    let expNeg = false;
    if (i < n && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) {
      expNeg = s.charCodeAt(i) === 45;
      i++;
    }
    const expStart = i;
    while (i < n && s.charCodeAt(i) === 48) i++; // leading zeros of the exponent
    const sigStart = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    if (i === expStart) return 'syntax';
    if (i - sigStart > 6) return 'exponent';
    exp = i === sigStart ? 0 : Number(s.slice(sigStart, i));
    if (exp > MAX_EXPONENT) return 'exponent';
    if (expNeg) exp = -exp;
  }
  if (i !== n) return 'syntax';
  return shift(negative, intDigits + fracDigits, intDigits.length + exp);
}

/** Builds the normalized parts of digits `all` with the decimal point after `point` digits. */
function shift(negative: boolean, all: string, point: number): { parts: DecimalParts; negativeZero: boolean } {
  const len = all.length;
  let lead = 0;
  while (lead < len && all.charCodeAt(lead) === 48) lead++;
  if (lead === len) return { parts: { negative: false, int: '', frac: '' }, negativeZero: negative };
  let end = len;
  while (all.charCodeAt(end - 1) === 48) end--;
  let int = '';
  if (point > lead) int = all.slice(lead, Math.min(point, end)) + (point > end ? '0'.repeat(point - end) : '');
  let frac = '';
  if (point < end) frac = (lead > point ? '0'.repeat(lead - point) : '') + all.slice(Math.max(point, lead), end);
  return { parts: { negative, int, frac }, negativeZero: false };
}

/** Plain decimal text, no exponent: '-12.5', '0', '0.0001'. */
export function formatDecimal(p: DecimalParts): string {
  const body = (p.int === '' ? '0' : p.int) + (p.frac === '' ? '' : `.${p.frac}`);
  return p.negative ? `-${body}` : body;
}

export type NumericStringParse =
  | { parts: DecimalParts; negativeZero: boolean; localized: boolean }
  | { reason: string };

const SPACES = new Set([0x20, 0xa0, 0x202f, 0x2009]);

/** Parses a numeric string by the rules in this file's header. */
export function parseNumericString(raw: string): NumericStringParse {
  const s = raw.trim();
  if (s.length === 0) return { reason: raw.length === 0 ? 'empty string is not a number' : 'blank string is not a number' };
  const plain = parseDecimalLiteral(s);
  if (typeof plain === 'object') return { ...plain, localized: false };
  if (plain === 'exponent') return { reason: `exponent out of range: ${quote(raw)}` };
  const notANumber = { reason: `not a number: ${quote(raw)}` };

  const sign = s[0] === '+' || s[0] === '-' ? s[0] : '';
  const body = s.slice(sign.length);
  const counts = countSeparators(body);
  if (counts === undefined) return notANumber;
  const roles = separatorRoles(body, counts);
  if (roles === 'ambiguous') return ambiguousComma(raw, sign, body, counts.lastComma);
  if (roles === undefined) return notANumber;
  const digits = separatedDigits(body, roles);
  if (digits === undefined) return notANumber;
  const { intDigits, fracText } = digits;
  const res = parseDecimalLiteral(`${sign}${intDigits}${fracText === '' ? '' : `.${fracText}`}`);
  if (typeof res !== 'object') return notANumber;
  return { ...res, localized: true };
}

/** How many of each separator a numeric string's body (sign removed) holds, and where the last '.' and ',' are. */
interface SeparatorCounts {
  dots: number;
  commas: number;
  spaces: number;
  lastDot: number;
  lastComma: number;
}

/** What each separator means: the decimal separator's offset (-1: none) and the thousands separator. */
interface SeparatorRoles {
  decimalAt: number;
  group: 'space' | '.' | ',' | undefined;
}

/** The separators of `body`; undefined when it holds anything but digits and separators. */
function countSeparators(body: string): SeparatorCounts | undefined {
  const counts: SeparatorCounts = { dots: 0, commas: 0, spaces: 0, lastDot: -1, lastComma: -1 };
  for (let k = 0; k < body.length; k++) {
    const c = body.charCodeAt(k);
    if (isDigit(c)) continue;
    if (c === 46) {
      counts.dots++;
      counts.lastDot = k;
    } else if (c === 44) {
      counts.commas++;
      counts.lastComma = k;
    } else if (SPACES.has(c)) counts.spaces++;
    else return undefined;
  }
  return counts;
}

/**
 * Decides the decimal separator (or none) and the thousands separator by the header's rules:
 * undefined when no rule accepts this mix, 'ambiguous' for a lone comma such as "12,500".
 */
function separatorRoles(body: string, c: SeparatorCounts): SeparatorRoles | 'ambiguous' | undefined {
  if (c.dots > 0 && c.commas > 0) return c.spaces > 0 ? undefined : lastSeparatorIsDecimal(c);
  if (c.commas > 0) return commaRoles(body, c);
  if (c.dots > 0) return dotRoles(c);
  return c.spaces > 0 ? { decimalAt: -1, group: 'space' } : undefined;
}

/** Both '.' and ',': the last one is the decimal separator (and must appear once). */
function lastSeparatorIsDecimal(c: SeparatorCounts): SeparatorRoles | undefined {
  if (c.lastDot > c.lastComma) return c.dots === 1 ? { decimalAt: c.lastDot, group: ',' } : undefined;
  return c.commas === 1 ? { decimalAt: c.lastComma, group: '.' } : undefined;
}

/** ',' and no '.'. */
function commaRoles(body: string, c: SeparatorCounts): SeparatorRoles | 'ambiguous' | undefined {
  if (c.spaces > 0) return c.commas === 1 ? { decimalAt: c.lastComma, group: 'space' } : undefined;
  if (c.commas > 1) return { decimalAt: -1, group: ',' };
  const before = body.slice(0, c.lastComma);
  const after = body.slice(c.lastComma + 1);
  if (after.length === 3 && before.length >= 1 && before.length <= 3 && before[0] !== '0') return 'ambiguous';
  return { decimalAt: c.lastComma, group: undefined };
}

/** '.' and no ','. */
function dotRoles(c: SeparatorCounts): SeparatorRoles | undefined {
  if (c.spaces > 0) return c.dots === 1 ? { decimalAt: c.lastDot, group: 'space' } : undefined;
  return c.dots > 1 ? { decimalAt: -1, group: '.' } : undefined; // a single '.' would have been a plain literal
}

function ambiguousComma(raw: string, sign: string, body: string, comma: number): { reason: string } {
  const before = body.slice(0, comma);
  const after = body.slice(comma + 1);
  return {
    reason:
      `ambiguous number ${quote(raw)}: the comma may be a decimal separator ` +
      `(${sign}${before}.${after}) or a thousands separator (${sign}${before}${after})`,
  };
}

/**
 * The integer digits with their thousands separators removed, and the fraction digits;
 * undefined when the groups break the rules (first 1-3 digits, every further one exactly 3).
 */
function separatedDigits(body: string, roles: SeparatorRoles): { intDigits: string; fracText: string } | undefined {
  const { decimalAt, group } = roles;
  const intText = decimalAt < 0 ? body : body.slice(0, decimalAt);
  const fracText = decimalAt < 0 ? '' : body.slice(decimalAt + 1);
  if (decimalAt >= 0 && !allDigits(fracText, 1)) return undefined;
  const groups = group === undefined ? [intText] : splitGroups(intText, group);
  if (groups.length > 1) {
    if (!validThousandsGroups(groups)) return undefined;
  } else if (!allDigits(intText, decimalAt >= 0 ? 0 : 1)) return undefined;
  const intDigits = groups.join('');
  if (intDigits.length === 0 && fracText.length === 0) return undefined;
  return { intDigits, fracText };
}

function validThousandsGroups(groups: readonly string[]): boolean {
  const first = groups[0] ?? '';
  if (!allDigits(first, 1) || first.length > 3) return false;
  for (let g = 1; g < groups.length; g++) if (!allDigits(groups[g] ?? '', 3) || (groups[g] ?? '').length !== 3) return false;
  return true;
}

function splitGroups(text: string, group: 'space' | '.' | ','): string[] {
  if (group !== 'space') return text.split(group);
  const out: string[] = [];
  let start = 0;
  for (let k = 0; k < text.length; k++) {
    if (SPACES.has(text.charCodeAt(k))) {
      out.push(text.slice(start, k));
      start = k + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

function allDigits(s: string, minLength: number): boolean {
  if (s.length < minLength) return false;
  for (let k = 0; k < s.length; k++) if (!isDigit(s.charCodeAt(k))) return false;
  return true;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}…` : s);
}

/** Why `p` does not fit numeric(precision, scale), or undefined when it fits. Never rounds. */
export function precisionProblem(p: DecimalParts, precision: number, scale: number): string | undefined {
  if (p.frac.length > scale) return `has ${p.frac.length} decimal places, column allows ${scale}`;
  const intMax = precision - scale;
  if (p.int.length > intMax) {
    return `has ${p.int.length} integer digits, column numeric(${precision},${scale}) allows ${intMax}`;
  }
  return undefined;
}

/** Exact parts of a JS number by its shortest round-trip representation (String(n)). */
export function numberParts(n: number): { parts: DecimalParts; negativeZero: boolean } {
  if (Object.is(n, -0)) return { parts: { negative: false, int: '', frac: '' }, negativeZero: true };
  const r = parseDecimalLiteral(String(n));
  if (typeof r !== 'object') throw new RangeError(`not a finite number: ${n}`);
  return r;
}
