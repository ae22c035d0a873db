/**
 * COPY text written straight into bytes (`encodeRows`) against the line builder it replaces
 * (`copyLine`, then UTF-8): the same bytes and line ends for escapes, NULLs, empty strings,
 * non-ASCII text, surrogate pairs and values larger than the scratch buffer.
 */
import { describe, expect, it } from 'vitest';
import { copyLine, encodeRows } from '../../src/target/copy.js';

function expected(rows: (string | null)[][]): { bytes: Buffer; ends: number[] } {
  const lines = rows.map((r) => Buffer.from(copyLine(r)));
  let end = 0;
  return { bytes: Buffer.concat(lines), ends: lines.map((l) => (end += l.length)) };
}

describe('COPY rows encoded into one buffer', () => {
  it('gives the bytes and line ends of the COPY lines, escapes and NULLs included', () => {
    const rows: (string | null)[][] = [
      ['a', null, '', 'tab\there', 'back\\slash', 'new\nline\r'],
      ['héllo wörld', '😀 emoji', '€', null],
      [null],
      [''],
      ['{"a":"x\\ty"}', '{a,"b c",NULL}'],
    ];
    const got = encodeRows(rows);
    const want = expected(rows);
    expect(got.bytes.toString('utf8')).toBe(want.bytes.toString('utf8'));
    expect(got.bytes.equals(want.bytes)).toBe(true);
    expect(got.ends).toEqual(want.ends);
  });

  it('grows past its scratch buffer for a large document, and is right again for the next', () => {
    const big = `${'ü\t'.repeat(3_000_000)}end`;
    const rows = [['id', big], ['x', '\\']];
    const got = encodeRows(rows);
    expect(got.bytes.equals(expected(rows).bytes)).toBe(true);
    expect(got.ends).toEqual(expected(rows).ends);
    const small = [['1', 'é']];
    expect(encodeRows(small).bytes.equals(expected(small).bytes)).toBe(true);
  });

  it('returns a buffer of its own: the next call does not change it', () => {
    const first = encodeRows([['first', 'row']]);
    const copy = Buffer.from(first.bytes);
    encodeRows([['second', 'row!!']]);
    expect(first.bytes.equals(copy)).toBe(true);
  });
});
