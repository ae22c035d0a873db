import { Decimal128, Double, Int32, Long } from 'bson';
import { describe, expect, it } from 'vitest';
import { toBigInt, toFloat8, toInt32 } from '../../src/core/values/index.js';

const okv = (value: string, coercion?: string) => (coercion === undefined ? { ok: true, value } : { ok: true, value, coercion });

describe('toInt32', () => {
  it.each<[string, unknown, ReturnType<typeof okv>]>([
    ['number', 42, okv('42')],
    ['integral double', 3.0, okv('3')],
    ['-0', -0, okv('0', 'negative-zero')],
    ['max', 2147483647, okv('2147483647')],
    ['min', -2147483648, okv('-2147483648')],
    ['Int32', new Int32(-7), okv('-7')],
    ['Double', new Double(8), okv('8')],
    ['Long in range', Long.fromNumber(123), okv('123')],
    ['bigint in range', 5n, okv('5')],
    ['Decimal128 integral', Decimal128.fromString('3.00'), okv('3', 'integer-from-decimal128')],
    ['string', ' 3 ', okv('3', 'number-from-string')],
    ['string 3.0 (exactly integral)', '3.0', okv('3', 'number-from-string')],
    ['localized string', '12 500', okv('12500', 'number-from-localized-string')],
  ])('accepts %s', (_n, input, expected) => {
    expect(toInt32(input)).toEqual(expected);
  });
  it.each<[string, unknown, RegExp]>([
    ['fraction', 3.5, /3\.5 is not an integer/],
    ['string fraction', '3.5', /"3\.5" is not an integer/],
    ['above max', 2147483648, /out of range for a 32-bit integer/],
    ['below min', -2147483649, /out of range/],
    ['Long out of range', Long.fromString('9007199254740993'), /out of range/],
    ['NaN', Number.NaN, /NaN cannot be stored/],
    ['Infinity', Number.POSITIVE_INFINITY, /Infinity/],
    ['N/A', 'N/A', /not a number/],
    ['empty', '', /empty string/],
    ['ambiguous', '1,500', /ambiguous/],
    ['boolean', false, /is a boolean \(false\), expected a number/],
    ['Decimal128 NaN', Decimal128.fromString('NaN'), /NaN/],
  ])('rejects %s', (_n, input, reason) => {
    const r = toInt32(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});

describe('toBigInt', () => {
  it('keeps Int64 9007199254740993 (2^53+1) exactly, from Long, bigint, string and Decimal128', () => {
    expect(toBigInt(Long.fromString('9007199254740993'))).toEqual(okv('9007199254740993'));
    expect(toBigInt(9007199254740993n)).toEqual(okv('9007199254740993'));
    expect(toBigInt('9007199254740993')).toEqual(okv('9007199254740993', 'number-from-string'));
    expect(toBigInt(Decimal128.fromString('9007199254740993'))).toEqual(okv('9007199254740993', 'integer-from-decimal128'));
  });
  it('accepts the int64 extremes and rejects one beyond', () => {
    expect(toBigInt(Long.MAX_VALUE)).toEqual(okv('9223372036854775807'));
    expect(toBigInt(Long.MIN_VALUE)).toEqual(okv('-9223372036854775808'));
    expect(toBigInt('9223372036854775808')).toEqual({
      ok: false,
      reason: expect.stringContaining('out of range for a 64-bit integer') as unknown as string,
    });
    expect(toBigInt(-(2n ** 63n) - 1n).ok).toBe(false);
  });
  it('accepts safe JS integers and rejects doubles beyond 2^53 (their digits cannot be trusted)', () => {
    expect(toBigInt(9007199254740991)).toEqual(okv('9007199254740991'));
    expect(toBigInt(-0)).toEqual(okv('0', 'negative-zero'));
    const r = toBigInt(2 ** 60);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/beyond ±2\^53/);
  });
  it('rejects fractions and junk', () => {
    expect(toBigInt('12.5').ok).toBe(false);
    expect(toBigInt(1.5).ok).toBe(false);
    expect(toBigInt('abc').ok).toBe(false);
    expect(toBigInt(Number.NaN).ok).toBe(false);
  });
});

describe('toFloat8', () => {
  it.each<[string, unknown, ReturnType<typeof okv>]>([
    ['number kept exactly (shortest repr)', 0.1 + 0.2, okv('0.30000000000000004')],
    ['integer', 42, okv('42')],
    ['-0 kept', -0, okv('-0')],
    ['huge', 1e21, okv('1e+21')],
    ['tiny', 5e-324, okv('5e-324')],
    ['Double wrapper', new Double(1.5), okv('1.5')],
    ['Int32 wrapper', new Int32(7), okv('7')],
    ['Long exactly representable', Long.fromString('9007199254740992'), okv('9007199254740992')],
    ['bigint exactly representable (text is the shortest repr of that same double)', 2n ** 60n, okv('1152921504606847000')],
    ['Decimal128 0.1 (what a double 0.1 means)', Decimal128.fromString('0.1'), okv('0.1', 'float-from-decimal128')],
    ['Decimal128 1.50', Decimal128.fromString('1.50'), okv('1.5', 'float-from-decimal128')],
    ['string', '2.5', okv('2.5', 'number-from-string')],
    ['localized string', '2,5', okv('2.5', 'number-from-localized-string')],
  ])('accepts %s', (_n, input, expected) => {
    expect(toFloat8(input)).toEqual(expected);
  });
  it.each<[string, unknown, RegExp]>([
    ['NaN', Number.NaN, /NaN is not a finite number/],
    ['Infinity', Number.POSITIVE_INFINITY, /Infinity is not a finite number/],
    ['Double NaN', new Double(Number.NaN), /NaN/],
    ['Long 2^53+1', Long.fromString('9007199254740993'), /not exactly representable as a double/],
    ['bigint 2^53+1', 9007199254740993n, /not exactly representable/],
    [
      'Decimal128 with more digits than a double holds',
      Decimal128.fromString('0.1000000000000000000001'),
      /not exactly representable as a double \(it would become 0\.1\)/,
    ],
    ['string with 20 significant digits', '1.2345678901234567891', /not exactly representable/],
    ['Decimal128 beyond double range', Decimal128.fromString('1E+400'), /out of range for a double/],
    ['N/A', 'N/A', /not a number/],
    ['boolean', true, /is a boolean/],
  ])('rejects %s', (_n, input, reason) => {
    const r = toFloat8(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
  it('the text reads back to the very same double', () => {
    for (const n of [0.1, 1 / 3, Math.PI, 1e-300, 123456789.123456789, -2.5e-10]) {
      const r = toFloat8(n);
      expect(r.ok && Number(r.value)).toBe(n);
    }
  });
});
