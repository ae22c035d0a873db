import { describe, expect, it } from 'vitest';
import { canonicalDecimal, canonicalJson, displayTarget, instantMillis, parseArrayLiteral, sameValue } from '../../src/core/verify-values.js';
import type { ColumnKind } from '../../src/schema/prisma-schema.js';

const col = (kind: ColumnKind, isList = false) => ({ kind, isList });
const decimal = col({ type: 'decimal', precision: 19, scale: 4 });
const ts = col({ type: 'timestamp' });
const json = col({ type: 'json' });

describe('type-aware comparison of converted and stored values', () => {
  it('compares decimals as exact decimals, never through a float', () => {
    expect(sameValue(decimal, '12.5', '12.5000')).toBe(true);
    expect(sameValue(decimal, '-0', '0.0000')).toBe(true);
    expect(sameValue(decimal, '12.5', '12.5001')).toBe(false);
    expect(sameValue(decimal, '123456789012345.1234', '123456789012345.1235')).toBe(false);
    expect(canonicalDecimal('1.50e3')).toBe('1500');
    expect(sameValue(col({ type: 'bigint' }), '9007199254740993', '9007199254740992')).toBe(false);
  });

  it('compares instants in epoch milliseconds, whatever the text form', () => {
    expect(instantMillis('2020-02-29T23:59:59.999Z')).toBe(String(Date.UTC(2020, 1, 29, 23, 59, 59, 999)));
    expect(instantMillis('2020-02-29 23:59:59.999+00')).toBe(instantMillis('2020-03-01T01:59:59.999+02:00'));
    expect(instantMillis('0050-02-28T00:00:00.000Z')).toBe(String(new Date('0050-02-28T00:00:00.000Z').getTime()));
    expect(sameValue(ts, '2021-01-01T00:00:00.123Z', String(Date.UTC(2021, 0, 1, 0, 0, 0, 123)))).toBe(true);
    expect(sameValue(ts, '2021-01-01T00:00:00.123Z', String(Date.UTC(2021, 0, 1, 0, 0, 0, 124)))).toBe(false);
    expect(sameValue(ts, '2021-01-01T00:00:00.123Z', '1609459200123.000000')).toBe(true);
    expect(displayTarget(ts, '1609459200123')).toBe('2021-01-01T00:00:00.123Z');
  });

  it('compares JSON canonically: key order ignored, numbers exact, strings exact', () => {
    expect(sameValue(json, '{"b":1,"a":{"y":[1,"x"],"x":12.50}}', '{"a": {"x": 12.5, "y": [1, "x"]}, "b": 1}')).toBe(true);
    expect(sameValue(json, '{"a":12.5}', '{"a": 12.51}')).toBe(false);
    expect(sameValue(json, '{"a":[1,2]}', '{"a": [2, 1]}')).toBe(false);
    expect(sameValue(json, '{"a":"\\u00e9"}', '{"a": "é"}')).toBe(true);
    expect(canonicalJson('{"n":1e2}')).toBe('{"n":100}');
    expect(canonicalJson('{"n":}')).toBeUndefined();
  });

  it('compares lists element by element, arrays read back as JSON', () => {
    const tags = col({ type: 'text' }, true);
    expect(parseArrayLiteral('{"a","b\\"c",NULL}')).toEqual(['a', 'b"c', null]);
    expect(sameValue(tags, '{"vip","t1"}', '["vip", "t1"]')).toBe(true);
    expect(sameValue(tags, '{"vip","t1"}', '["t1", "vip"]')).toBe(false);
    expect(sameValue(tags, '{}', '[]')).toBe(true);
    expect(sameValue(col({ type: 'decimal', precision: 19, scale: 4 }, true), '{"1.5"}', '[1.5000]')).toBe(true);
  });

  it('uuid and bytes ignore case; booleans t/true; text and NULL exact', () => {
    expect(sameValue(col({ type: 'uuid' }), '01A20E58-6DB0-8140-80F1-D06E1CA82689', '01a20e58-6db0-8140-80f1-d06e1ca82689')).toBe(true);
    expect(sameValue(col({ type: 'boolean' }), 't', 'true')).toBe(true);
    expect(sameValue(col({ type: 'text' }), 'a ', 'a')).toBe(false);
    expect(sameValue(col({ type: 'text' }), null, '')).toBe(false);
    expect(sameValue(col({ type: 'float' }), '-0', '0')).toBe(false);
    expect(sameValue(col({ type: 'float' }), '0.1', '0.1')).toBe(true);
  });
});
