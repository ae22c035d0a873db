import { Binary, BSONRegExp, Decimal128, Double, Int32, Long, MaxKey, ObjectId, Timestamp, UUID } from 'bson';
import { describe, expect, it } from 'vitest';
import { formatJsonPath, toJson } from '../../src/core/values/index.js';

const okv = (value: string, coercion?: string) => (coercion === undefined ? { ok: true, value } : { ok: true, value, coercion });

describe('toJson — exact output', () => {
  it('plain JSON values are written like JSON.stringify, key order kept', () => {
    const v = { z: 1, a: [true, null, 'x'], m: { b: 2.5, a: -3 }, s: 'é 🙂 "q" \\ \n', e: {}, ea: [] };
    expect(toJson(v)).toEqual(okv(JSON.stringify(v)));
  });
  it('numbers: shortest repr; bson Int32/Double as numbers', () => {
    expect(toJson({ a: 0.1, b: 1e21, c: 5e-324, d: new Int32(7), e: new Double(2.5) })).toEqual(
      okv('{"a":0.1,"b":1e+21,"c":5e-324,"d":7,"e":2.5}'),
    );
  });
  it('Long, bigint and Decimal128 are exact number literals (jsonb numeric), a Decimal128 with its own scale (1.50)', () => {
    expect(
      toJson({
        long: Long.fromString('9007199254740993'),
        big: -9223372036854775808n,
        dec: Decimal128.fromString('1234567890123456789012345678901.234'),
        exp: Decimal128.fromString('1.23E+5'),
        small: Decimal128.fromString('1E-40'),
        scale: Decimal128.fromString('1.50'),
      }),
    ).toEqual(
      okv(
        '{"long":9007199254740993,"big":-9223372036854775808,"dec":1234567890123456789012345678901.234,' +
          `"exp":123000,"small":0.${'0'.repeat(39)}1,"scale":1.50}`,
      ),
    );
  });
  it('-0 becomes 0 with a coercion', () => {
    expect(toJson([-0, Decimal128.fromString('-0')])).toEqual(okv('[0,0]', 'negative-zero'));
  });
  it('Date → ISO string with ms, ObjectId → hex string', () => {
    expect(toJson({ at: new Date(-1), by: new ObjectId('5f1d7e2a9b3c4d5e6f708192') })).toEqual(
      okv('{"at":"1969-12-31T23:59:59.999Z","by":"5f1d7e2a9b3c4d5e6f708192"}', 'json-date-as-string,json-objectid-as-string'),
    );
  });
  it('Binary and other BSON types → canonical Extended JSON objects', () => {
    expect(toJson({ b: new Binary(Buffer.from('hi'), 0) })).toEqual(
      okv('{"b":{"$binary":{"base64":"aGk=","subType":"00"}}}', 'json-binary-as-ejson'),
    );
    expect(toJson(new UUID('0c0f8a4e-33a4-4b4e-8a5c-0f5c0e0d0a0b'))).toEqual(
      okv('{"$binary":{"base64":"DA+KTjOkS06KXA9cDg0KCw==","subType":"04"}}', 'json-binary-as-ejson'),
    );
    expect(toJson(Buffer.from('hi'))).toEqual(okv('{"$binary":{"base64":"aGk=","subType":"00"}}', 'json-binary-as-ejson'));
    expect(toJson(new Timestamp({ t: 5, i: 1 }))).toEqual(okv('{"$timestamp":{"t":5,"i":1}}', 'json-timestamp-as-ejson'));
    expect(toJson(new BSONRegExp('^a', 'i'))).toEqual(
      okv('{"$regularExpression":{"pattern":"^a","options":"i"}}', 'json-bsonregexp-as-ejson'),
    );
    expect(toJson(/x+/g)).toEqual(okv('{"$regularExpression":{"pattern":"x+","options":"g"}}', 'json-regex-as-ejson'));
    expect(toJson(new MaxKey())).toEqual(okv('{"$maxKey":1}', 'json-maxkey-as-ejson'));
  });
  it('undefined: omitted in objects, null in arrays', () => {
    expect(toJson({ a: undefined, b: 1 })).toEqual(okv('{"b":1}', 'undefined-omitted'));
    expect(toJson([undefined])).toEqual(okv('[null]', 'undefined-as-null'));
  });
  it('emoji, RTL and escapes survive', () => {
    const s = 'مرحبا 👩‍👩‍👧 "\u0001" \u2028';
    const r = toJson({ s });
    expect(r.ok && JSON.parse(r.value)).toEqual({ s });
  });
  it('is linear on wide and long input', () => {
    const items = Array.from({ length: 50_000 }, (_, i) => ({ i, n: `name ${i}`, p: Decimal128.fromString(`${i}.25`) }));
    const t0 = performance.now();
    const r = toJson(items);
    expect(r.ok).toBe(true);
    expect(performance.now() - t0).toBeLessThan(2_000);
  });
});

describe('toJson — rejected with the path inside the value', () => {
  it.each<[string, unknown, string]>([
    ['NaN', { metrics: { roas: Number.NaN } }, 'at .metrics.roas: NaN cannot be stored in jsonb'],
    ['Infinity in array', { metrics: { series: [1, 2, Number.POSITIVE_INFINITY] } }, 'at .metrics.series[2]: Infinity cannot be stored in jsonb'],
    ['Double NaN', { d: new Double(Number.NaN) }, 'at .d: NaN cannot be stored in jsonb'],
    ['-Infinity at root', Number.NEGATIVE_INFINITY, '-Infinity cannot be stored in jsonb'],
    ['Decimal128 NaN', { x: [{ y: Decimal128.fromString('NaN') }] }, 'at .x[0].y: Decimal128 NaN cannot be stored in jsonb'],
    ['NUL in string', { notes: 'a\u0000b' }, 'at .notes: string contains NUL character at offset 1, which jsonb cannot store'],
    ['NUL in key', { settings: { 'bad\u0000key': 1 } }, 'at .settings: key "bad\\u0000key" contains NUL character at offset 3, which jsonb cannot store'],
    ['lone surrogate', { 'weird key': ['\uD800'] }, 'at ["weird key"][0]: string contains a lone surrogate at offset 0 (invalid Unicode)'],
    ['Invalid Date', { at: new Date(Number.NaN) }, 'at .at: Invalid Date cannot be stored in jsonb'],
    ['function', { f: () => 1 }, 'at .f: a function cannot be stored in jsonb'],
    ['Map', { m: new Map() }, 'at .m: a Map has no JSON form'],
  ])('%s', (_n, input, reason) => {
    expect(toJson(input)).toEqual({ ok: false, reason });
  });

  it('limits nesting depth (default 1000) and reports where', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 1001; i++) deep = { a: deep };
    const r = toJson(deep);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/^at (\.a){1000}: nesting deeper than 1000 levels$/);
    let ok: unknown = 1;
    for (let i = 0; i < 1000; i++) ok = [ok];
    expect(toJson(ok).ok).toBe(true);
    expect(toJson([[[1]]], { maxDepth: 2 }).ok).toBe(false);
  });
  it('a cyclic object is caught by the depth limit, not a stack overflow', () => {
    const o: Record<string, unknown> = {};
    o.self = o;
    expect(toJson(o).ok).toBe(false);
  });
});

describe('formatJsonPath', () => {
  it('formats identifiers, indexes and odd keys', () => {
    expect(formatJsonPath(['metrics', 'roas'])).toBe('.metrics.roas');
    expect(formatJsonPath(['items', 3, 'unit price', '$x'])).toBe('.items[3]["unit price"].$x');
    expect(formatJsonPath([])).toBe('');
  });
});
