import { Decimal128, Double, Int32, Long, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { parseDecimalLiteral, parseNumericString, toDecimal } from '../../src/core/values/index.js';

const MONEY = { precision: 19, scale: 4 };
const WIDE = { precision: 38, scale: 4 };

describe('toDecimal — accepted values (numeric(19,4))', () => {
  it.each<[string, unknown, string, string | undefined]>([
    // JS numbers: shortest round-trip repr, exponent forms expanded exactly
    ['integer number', 12500, '12500', undefined],
    ['fractional number', 12.5, '12.5', undefined],
    ['negative number', -3.25, '-3.25', undefined],
    ['0.1 is 0.1', 0.1, '0.1', undefined],
    ['tiny number 1e-4', 1e-4, '0.0001', undefined],
    ['0.0015', 1.5e-3, '0.0015', undefined],
    ['1e14', 1e14, '100000000000000', undefined],
    ['-0 → 0', -0, '0', 'negative-zero'],
    ['zero', 0, '0', undefined],
    // bson wrappers
    ['Int32', new Int32(42), '42', undefined],
    ['Double', new Double(19.99), '19.99', undefined],
    ['Double -0', new Double(-0), '0', 'negative-zero'],
    ['Long', Long.fromString('123456789012345'), '123456789012345', undefined],
    ['bigint', 123456789012345n, '123456789012345', undefined],
    ['Decimal128 plain', Decimal128.fromString('12500.5000'), '12500.5', undefined],
    ['Decimal128 exponent', Decimal128.fromString('1.23E+5'), '123000', undefined],
    ['Decimal128 negative exponent', Decimal128.fromString('1E-4'), '0.0001', undefined],
    ['Decimal128 0E-10', Decimal128.fromString('0E-10'), '0', undefined],
    ['Decimal128 -0', Decimal128.fromString('-0'), '0', 'negative-zero'],
    ['Decimal128 -1.5', Decimal128.fromString('-1.5'), '-1.5', undefined],
    // strings
    ['digits', '12500', '12500', 'number-from-string'],
    ['spaces around', ' 3 ', '3', 'number-from-string'],
    ['trailing zeros within scale', '12.5000', '12.5', 'number-from-string'],
    ['trailing zeros beyond scale', '12.50000000', '12.5', 'number-from-string'],
    ['leading zeros', '007', '7', 'number-from-string'],
    ['plus sign', '+5', '5', 'number-from-string'],
    ['leading dot', '.5', '0.5', 'number-from-string'],
    ['exponent string', '1.5E3', '1500', 'number-from-string'],
    ['string -0', '-0.00', '0', 'number-from-string,negative-zero'],
    ['single dot is a decimal point', '12.500', '12.5', 'number-from-string'],
    ['space thousands', '12 500', '12500', 'number-from-localized-string'],
    ['NBSP thousands', '12\u00A0500', '12500', 'number-from-localized-string'],
    ['narrow NBSP thousands (U+202F)', '12\u202F500', '12500', 'number-from-localized-string'],
    ['thin space thousands', '1\u2009234\u2009567', '1234567', 'number-from-localized-string'],
    ['space thousands with comma decimal', '12 500,50', '12500.5', 'number-from-localized-string'],
    ['space thousands with dot decimal', '12 500.25', '12500.25', 'number-from-localized-string'],
    ['space thousands, comma then 3 digits (unambiguous)', '1 234,567', '1234.567', 'number-from-localized-string'],
    ['comma decimal', '12,5', '12.5', 'number-from-localized-string'],
    ['comma decimal, 2 digits', '12,50', '12.5', 'number-from-localized-string'],
    ['comma decimal, 4 digits', '12,5000', '12.5', 'number-from-localized-string'],
    ['comma after 0 is decimal', '0,125', '0.125', 'number-from-localized-string'],
    ['comma after 4 digits is decimal', '1234,567', '1234.567', 'number-from-localized-string'],
    ['negative comma decimal', '-12,5', '-12.5', 'number-from-localized-string'],
    ['European full', '1.234,56', '1234.56', 'number-from-localized-string'],
    ['US full', '1,234.56', '1234.56', 'number-from-localized-string'],
    ['US multi-group', '1,234,567.89', '1234567.89', 'number-from-localized-string'],
    ['several commas, no decimal', '1,234,567', '1234567', 'number-from-localized-string'],
    ['several dots, no decimal', '1.234.567', '1234567', 'number-from-localized-string'],
  ])('%s', (_name, input, expected, coercion) => {
    const r = toDecimal(input, MONEY);
    expect(r).toEqual(coercion === undefined ? { ok: true, value: expected } : { ok: true, value: expected, coercion });
  });
});

describe('toDecimal — rejected values', () => {
  it.each<[string, unknown, RegExp]>([
    ['N/A', 'N/A', /not a number: "N\/A"/],
    ['empty string', '', /empty string is not a number/],
    ['blank string', '   ', /blank string is not a number/],
    ['letters', 'abc', /not a number/],
    ['currency suffix', '12 500 FCFA', /not a number/],
    ['currency prefix', '€12', /not a number/],
    ['hex', '0x1A', /not a number/],
    ['Infinity string', 'Infinity', /not a number/],
    ['NaN string', 'NaN', /not a number/],
    ['ambiguous comma', '12,500', /ambiguous number "12,500".*12\.5.*12500/],
    ['ambiguous negative comma', '-1,250', /ambiguous/],
    ['bad space groups', '1 2 500', /not a number/],
    ['bad first group', '1234 567', /not a number/],
    ['space in decimals', '12,5 00', /not a number/],
    ['two decimal separators', '1.234,56,7', /not a number/],
    ['mixed groupings', '1 234.567,8', /not a number/],
    ['trailing comma', '12,', /not a number/],
    ['sign alone', '-', /not a number/],
    ['huge exponent', '1e99999999', /exponent out of range/],
    ['NaN', Number.NaN, /NaN cannot be stored as an exact decimal/],
    ['Infinity', Number.POSITIVE_INFINITY, /Infinity cannot be stored/],
    ['-Infinity', Number.NEGATIVE_INFINITY, /-Infinity cannot be stored/],
    ['Double NaN', new Double(Number.NaN), /NaN cannot be stored/],
    ['Decimal128 NaN', Decimal128.fromString('NaN'), /Decimal128 NaN cannot be stored/],
    ['Decimal128 Infinity', Decimal128.fromString('-Infinity'), /Decimal128 -Infinity/],
    ['too many decimals (string)', '12.34567', /has 5 decimal places, column allows 4/],
    ['too many decimals (comma)', '12,34567', /has 5 decimal places, column allows 4/],
    ['0.1 + 0.2 is 0.30000000000000004: 17 places, never rounded', 0.1 + 0.2, /has 17 decimal places, column allows 4/],
    ['1e-7', 1e-7, /has 7 decimal places/],
    ['too many integer digits', '1234567890123456', /has 16 integer digits, column numeric\(19,4\) allows 15/],
    ['1e21', 1e21, /has 22 integer digits/],
    ['Long too big for (19,4)', Long.fromString('9223372036854775807'), /19 integer digits/],
    ['boolean', true, /is a boolean \(true\), expected a number/],
    ['Date', new Date(0), /is a date, expected a number/],
    ['ObjectId', new ObjectId(), /is an ObjectId, expected a number/],
    ['object', { amount: 1 }, /is an object, expected a number/],
    ['array', [1], /is an array, expected a number/],
  ])('%s', (_name, input, reason) => {
    const r = toDecimal(input, MONEY);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});

describe('toDecimal — 34-digit Decimal128 and the column limits', () => {
  const d34 = Decimal128.fromString('1234567890123456789012345678901.234');
  it('is rejected for numeric(19,4) (too many integer digits)', () => {
    expect(toDecimal(d34, MONEY)).toEqual({
      ok: false,
      reason: 'Decimal128(1234567890123456789012345678901.234) has 31 integer digits, column numeric(19,4) allows 15',
    });
  });
  it('is kept exactly, digit for digit, for numeric(38,4)', () => {
    expect(toDecimal(d34, WIDE)).toEqual({ ok: true, value: '1234567890123456789012345678901.234' });
  });
  it('34 significant fractional digits reject on scale, not precision', () => {
    const r = toDecimal(Decimal128.fromString('0.1234567890123456789012345678901234'), WIDE);
    expect(r).toEqual({ ok: false, reason: expect.stringContaining('has 34 decimal places, column allows 4') });
  });
  it('Int64 9007199254740993 (2^53+1) is exact, never a float (and too wide for (19,4))', () => {
    expect(toDecimal(Long.fromString('9007199254740993'), WIDE)).toEqual({ ok: true, value: '9007199254740993' });
    expect(toDecimal(9007199254740993n, WIDE)).toEqual({ ok: true, value: '9007199254740993' });
    expect(toDecimal(Long.fromString('9007199254740993'), MONEY).ok).toBe(false);
    expect(toDecimal('9007199254740993', WIDE)).toEqual({
      ok: true,
      value: '9007199254740993',
      coercion: 'number-from-string',
    });
  });
  it('numbers whose String(n) has an exponent are written as exact plain decimals', () => {
    expect(String(1e21)).toBe('1e+21');
    expect(toDecimal(1e21, WIDE)).toEqual({ ok: true, value: '1000000000000000000000' });
    expect(toDecimal(1e-7, { precision: 20, scale: 10 })).toEqual({ ok: true, value: '0.0000001' });
    expect(toDecimal(-1.5e-7, { precision: 20, scale: 10 })).toEqual({ ok: true, value: '-0.00000015' });
    expect(toDecimal(1.7976931348623157e308, WIDE).ok).toBe(false);
  });
  it('max values of numeric(19,4) fit exactly', () => {
    expect(toDecimal('999999999999999.9999', MONEY)).toEqual({
      ok: true,
      value: '999999999999999.9999',
      coercion: 'number-from-string',
    });
    expect(toDecimal('-999999999999999.9999', MONEY).ok).toBe(true);
    expect(toDecimal('1000000000000000', MONEY).ok).toBe(false);
  });
  it('scale 0 rejects any fraction', () => {
    expect(toDecimal('3.5', { precision: 10, scale: 0 })).toEqual({
      ok: false,
      reason: '"3.5" has 1 decimal places, column allows 0',
    });
    expect(toDecimal('3.0', { precision: 10, scale: 0 })).toEqual({ ok: true, value: '3', coercion: 'number-from-string' });
  });
  it('refuses an invalid column definition', () => {
    expect(() => toDecimal(1, { precision: 4, scale: 5 })).toThrow(RangeError);
    expect(() => toDecimal(1, { precision: 0, scale: 0 })).toThrow(RangeError);
  });
});

describe('parseDecimalLiteral', () => {
  it.each<[string, string | { negative: boolean; int: string; frac: string }]>([
    ['0', { negative: false, int: '', frac: '' }],
    ['000.000', { negative: false, int: '', frac: '' }],
    ['1.23E+5', { negative: false, int: '123000', frac: '' }],
    ['1.23e-5', { negative: false, int: '', frac: '0000123' }],
    ['-12.3400', { negative: true, int: '12', frac: '34' }],
    ['123.456E-1', { negative: false, int: '12', frac: '3456' }],
    ['5.', { negative: false, int: '5', frac: '' }],
    ['1E+0006144', { negative: false, int: `1${'0'.repeat(6144)}`, frac: '' }],
    ['1e', 'syntax'],
    ['e5', 'syntax'],
    ['1.2.3', 'syntax'],
    ['', 'syntax'],
    ['1e1000000', 'exponent'],
  ])('%s', (input, expected) => {
    const r = parseDecimalLiteral(input);
    if (typeof expected === 'string') expect(r).toBe(expected);
    else expect(typeof r === 'object' ? r.parts : r).toEqual(expected);
  });
  it('flags -0', () => {
    expect(parseDecimalLiteral('-0.0')).toEqual({ parts: { negative: false, int: '', frac: '' }, negativeZero: true });
  });
  it('parseNumericString reports localized vs plain', () => {
    expect(parseNumericString('12 500')).toMatchObject({ localized: true });
    expect(parseNumericString('12500')).toMatchObject({ localized: false });
  });
});
