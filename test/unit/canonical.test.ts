import { createHash } from 'node:crypto';
import { Binary, Decimal128, Double, EJSON, Int32, Long, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { UNSERIALIZABLE_MARKER, canonicalExtendedJson, canonicalHash } from '../../src/core/canonical.js';

describe('canonicalExtendedJson', () => {
  it('is canonical Extended JSON v2 and keeps every BSON type', () => {
    const doc = {
      _id: new ObjectId('5f1d7e2a9b3c4d5e6f708192'),
      i: new Int32(1),
      l: Long.fromString('9007199254740993'),
      d: new Double(1),
      dec: Decimal128.fromString('1234567890123456789012345678901.234'),
      at: new Date(-1),
      b: new Binary(Buffer.from('hi'), 0),
    };
    expect(canonicalExtendedJson(doc)).toBe(
      '{"_id":{"$oid":"5f1d7e2a9b3c4d5e6f708192"},"i":{"$numberInt":"1"},"l":{"$numberLong":"9007199254740993"},' +
        '"d":{"$numberDouble":"1.0"},"dec":{"$numberDecimal":"1234567890123456789012345678901.234"},' +
        '"at":{"$date":{"$numberLong":"-1"}},"b":{"$binary":{"base64":"aGk=","subType":"00"}}}',
    );
  });

  it('does not throw on NaN, -0, Infinity, NUL and lone surrogates, and round-trips them', () => {
    const doc = { nan: Number.NaN, negZero: -0, inf: Number.NEGATIVE_INFINITY, nul: 'a\u0000b', lone: 'x\uD800', rtl: 'مرحبا 🙂' };
    const text = canonicalExtendedJson(doc);
    expect(text).toContain('{"$numberDouble":"NaN"}');
    expect(text).toContain('{"$numberDouble":"-0.0"}');
    expect(text).toContain('{"$numberDouble":"-Infinity"}');
    expect(text).toContain('"a\\u0000b"');
    expect(text).not.toContain('\u0000'); // safe for a text column
    const back = EJSON.parse(text, { relaxed: false }) as Record<string, unknown>;
    expect(Number.isNaN((back.nan as Double).value)).toBe(true);
    expect(Object.is((back.negZero as Double).value, -0)).toBe(true);
    expect(back.nul).toBe('a\u0000b');
    expect(back.lone).toBe('x\uD800');
    expect(back.rtl).toBe('مرحبا 🙂');
  });

  it('keeps Decimal128 NaN / exponent forms exactly', () => {
    expect(canonicalExtendedJson({ a: Decimal128.fromString('NaN'), b: Decimal128.fromString('1.23E+5') })).toBe(
      '{"a":{"$numberDecimal":"NaN"},"b":{"$numberDecimal":"1.23E+5"}}',
    );
  });

  it('handles MongoDB-deep nesting (100 levels)', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = { a: deep };
    expect(canonicalExtendedJson(deep)).toBe(`${'{"a":'.repeat(100)}{"$numberInt":"1"}${'}'.repeat(100)}`);
  });

  it('falls back to a clear marker instead of throwing (cycle, stack-deep nesting)', () => {
    const cyclic: Record<string, unknown> = { name: 'x' };
    cyclic.self = cyclic;
    const text = canonicalExtendedJson(cyclic);
    const parsed = JSON.parse(text) as Record<string, { error: string; inspect: string }>;
    expect(Object.keys(parsed)).toEqual([UNSERIALIZABLE_MARKER]);
    expect(parsed[UNSERIALIZABLE_MARKER]?.error).toMatch(/circular/i);
    expect(parsed[UNSERIALIZABLE_MARKER]?.inspect).toContain("name: 'x'");

    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = { a: deep };
    const deepText = canonicalExtendedJson(deep);
    expect(deepText.startsWith(`{"${UNSERIALIZABLE_MARKER}"`)).toBe(true);
  });
});

describe('canonicalHash', () => {
  it('is SHA-256 hex of the UTF-8 text', () => {
    expect(canonicalHash('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(canonicalHash('é🙂')).toBe(createHash('sha256').update(Buffer.from('é🙂', 'utf8')).digest('hex'));
    expect(canonicalHash(Buffer.from('abc'))).toBe(canonicalHash('abc'));
  });
  it('differs when a single type changes (Int32 vs Double) through canonical EJSON', () => {
    expect(canonicalHash(canonicalExtendedJson({ a: new Int32(1) }))).not.toBe(
      canonicalHash(canonicalExtendedJson({ a: new Double(1) })),
    );
  });
});
