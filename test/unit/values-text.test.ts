import { Binary, Decimal128, Double, Int32, Long, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { codePointLength, toBoolean, toEnum, toText, toTextArray } from '../../src/core/values/index.js';

const okv = <T>(value: T, coercion?: string) => (coercion === undefined ? { ok: true, value } : { ok: true, value, coercion });

describe('toText', () => {
  it.each<[string, string]>([
    ['accents', 'Crème brûlée à Dakar — Ñandú'],
    ['emoji (astral, ZWJ sequence)', 'Merci 🙏🏾 👩‍👩‍👧‍👦'],
    ['right-to-left', 'مرحبا بالعالم — שלום'],
    ['leading/trailing spaces kept', '  padded  '],
    ['empty string', ''],
    ['newlines and tabs', 'a\r\n\tb'],
    ['combining characters not normalized', 'e\u0301'],
    ['U+FFFD itself', '\uFFFD'],
  ])('keeps %s exactly', (_n, s) => {
    expect(toText(s)).toEqual(okv(s));
  });

  it('keeps a very long string exactly (500 kB notes)', () => {
    const s = 'Lorem ipsum 🙂 '.repeat(40_000);
    const r = toText(s);
    expect(r.ok && r.value === s).toBe(true);
  });

  it('rejects NUL with its offset', () => {
    expect(toText('abc\u0000def')).toEqual({
      ok: false,
      reason: 'contains NUL character at offset 3 (PostgreSQL text cannot store it)',
    });
  });
  it('replaces NUL by U+FFFD only when asked', () => {
    expect(toText('a\u0000b\u0000', { nul: 'replace' })).toEqual(okv('a\uFFFDb\uFFFD', 'nul-replaced'));
    expect(toText('a\u0000', { nul: 'reject' }).ok).toBe(false);
  });
  it.each<[string, string, string]>([
    ['lone high surrogate', 'ab\uD83D', 'contains a lone surrogate U+D83D at offset 2'],
    ['lone low surrogate', '\uDE00x', 'contains a lone surrogate U+DE00 at offset 0'],
    ['reversed pair', 'x\uDE00\uD83D', 'contains a lone surrogate U+DE00 at offset 1'],
  ])('rejects a %s', (_n, s, reason) => {
    const r = toText(s);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });
  it('rejects a lone surrogate even when NUL is replaced', () => {
    expect(toText('\u0000\uD800', { nul: 'replace' }).ok).toBe(false);
  });

  it('counts varchar length in code points (an emoji counts 1) and never truncates', () => {
    expect(toText('😀😀😀', { maxLength: 3 })).toEqual(okv('😀😀😀'));
    expect('😀😀😀'.length).toBe(6);
    expect(toText('😀😀😀😀', { maxLength: 3 })).toEqual({ ok: false, reason: 'is 4 characters long, column allows 3' });
    expect(toText('XOF', { maxLength: 3 })).toEqual(okv('XOF'));
    expect(toText('EURO', { maxLength: 3 })).toEqual({ ok: false, reason: 'is 4 characters long, column allows 3' });
    expect(toText('é', { maxLength: 1 })).toEqual(okv('é'));
    expect(codePointLength('a😀b')).toBe(3);
    expect(codePointLength('')).toBe(0);
  });

  it.each<[string, unknown, string, string]>([
    ['number', 12.5, '12.5', 'text-from-number'],
    ['integer number (phone stored as number)', 221771234567, '221771234567', 'text-from-number'],
    ['-0', -0, '0', 'text-from-number'],
    ['Int32', new Int32(7), '7', 'text-from-number'],
    ['Double', new Double(7.25), '7.25', 'text-from-number'],
    ['Long beyond 2^53', Long.fromString('9007199254740993'), '9007199254740993', 'text-from-number'],
    ['bigint', 9007199254740993n, '9007199254740993', 'text-from-number'],
    ['Decimal128 exponent', Decimal128.fromString('1.5E+3'), '1500', 'text-from-number'],
    ['Decimal128 keeps its scale', Decimal128.fromString('692.10'), '692.10', 'text-from-number'],
    ['boolean', true, 'true', 'text-from-boolean'],
    ['ObjectId', new ObjectId('5f1d7e2a9b3c4d5e6f708192'), '5f1d7e2a9b3c4d5e6f708192', 'text-from-objectid'],
    ['Date', new Date(Date.UTC(1969, 6, 20, 20, 17, 40, 5)), '1969-07-20T20:17:40.005Z', 'text-from-date'],
  ])('converts %s with a coercion', (_n, input, value, coercion) => {
    expect(toText(input)).toEqual(okv(value, coercion));
  });

  it.each<[string, unknown, string]>([
    ['object', { city: 'Dakar' }, 'is an object, expected text'],
    ['array', ['a'], 'is an array, expected text'],
    ['Binary', new Binary(Buffer.from('x')), 'is a Binary, expected text'],
    ['NaN', Number.NaN, 'NaN is not text'],
    ['Invalid Date', new Date(Number.NaN), 'is an Invalid Date, expected text'],
  ])('rejects %s', (_n, input, reason) => {
    expect(toText(input)).toEqual({ ok: false, reason });
  });
});

describe('toTextArray', () => {
  it('keeps arrays of strings', () => {
    expect(toTextArray(['a', 'b 🙂', ''])).toEqual(okv(['a', 'b 🙂', '']));
    expect(toTextArray([])).toEqual(okv([]));
  });
  it('wraps a single string', () => {
    expect(toTextArray('vip')).toEqual(okv(['vip'], 'array-from-scalar'));
  });
  it('rejects non-string elements naming the index', () => {
    expect(toTextArray(['a', 2])).toEqual({ ok: false, reason: 'element 1 is a number, expected text' });
    expect(toTextArray(['a', 'b', null])).toEqual({ ok: false, reason: 'element 2 is null, expected text' });
    expect(toTextArray([{ url: 'x' }])).toEqual({ ok: false, reason: 'element 0 is an object, expected text' });
  });
  it('checks every element like toText', () => {
    expect(toTextArray(['ok', 'bad\u0000'])).toEqual({
      ok: false,
      reason: 'element 1 contains NUL character at offset 3 (PostgreSQL text cannot store it)',
    });
    expect(toTextArray(['ok', 'bad\u0000'], { nul: 'replace' })).toEqual(okv(['ok', 'bad\uFFFD'], 'nul-replaced'));
    expect(toTextArray(['abcd'], { maxLength: 3 })).toEqual({ ok: false, reason: 'element 0 is 4 characters long, column allows 3' });
  });
  it('rejects non-arrays', () => {
    expect(toTextArray({ a: 1 })).toEqual({ ok: false, reason: 'is an object, expected an array of text' });
    expect(toTextArray(3).ok).toBe(false);
  });
});

describe('toBoolean', () => {
  it.each<[unknown, boolean, string | undefined]>([
    [true, true, undefined],
    [false, false, undefined],
    ['true', true, 'boolean-from-string'],
    [' TRUE ', true, 'boolean-from-string'],
    ['False', false, 'boolean-from-string'],
    ['1', true, 'boolean-from-string'],
    ['0', false, 'boolean-from-string'],
    ['Yes', true, 'boolean-from-string'],
    ['no', false, 'boolean-from-string'],
    [1, true, 'boolean-from-number'],
    [0, false, 'boolean-from-number'],
    [-0, false, 'boolean-from-number'],
    [new Int32(1), true, 'boolean-from-number'],
    [Long.fromNumber(0), false, 'boolean-from-number'],
    [1n, true, 'boolean-from-number'],
    [Decimal128.fromString('1.0'), true, 'boolean-from-number'],
  ])('%s → %s', (input, value, coercion) => {
    expect(toBoolean(input)).toEqual(okv(value, coercion));
  });
  it.each<[unknown, RegExp]>([
    ['maybe', /not a boolean: "maybe"/],
    ['', /not a boolean/],
    [2, /2 is not a boolean \(only 1 and 0 are\)/],
    [0.5, /not a boolean/],
    [Number.NaN, /not a boolean/],
    [Decimal128.fromString('2'), /not a boolean/],
    [null, /is null, expected a boolean/],
    [{}, /is an object, expected a boolean/],
  ])('rejects %j', (input, reason) => {
    const r = toBoolean(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});

describe('toEnum', () => {
  const STATUS = ['pending', 'confirmed', 'shipped', 'delivered', 'returned', 'cancelled'] as const;
  it('exact match', () => {
    expect(toEnum('shipped', STATUS)).toEqual(okv('shipped'));
  });
  it.each([['Shipped'], ['  DELIVERED '], ['can celled']])('normalized match %j', (input) => {
    const r = toEnum(input, STATUS);
    expect(r.ok && r.coercion).toBe('enum-normalized');
  });
  it('rejects unknown values listing the allowed ones', () => {
    expect(toEnum('lost', STATUS)).toEqual({
      ok: false,
      reason: '"lost" is not an allowed value, expected one of: pending, confirmed, shipped, delivered, returned, cancelled',
    });
    expect(toEnum(3, STATUS)).toEqual({
      ok: false,
      reason: 'is a number, expected one of: pending, confirmed, shipped, delivered, returned, cancelled',
    });
  });
  it('an ambiguous normalized match is rejected, an exact one still wins', () => {
    const allowed = ['Open', 'open'] as const;
    expect(toEnum('open', allowed)).toEqual(okv('open'));
    expect(toEnum('OPEN', allowed).ok).toBe(false);
  });
});
