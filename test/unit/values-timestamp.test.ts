import { Decimal128, Double, Int32, Long, Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, toTimestamp } from '../../src/core/values/index.js';
import { isoUtc } from '../../src/core/values/timestamp.js';

const okv = (value: string, coercion?: string) => (coercion === undefined ? { ok: true, value } : { ok: true, value, coercion });

describe('toTimestamp — accepted', () => {
  it.each<[string, unknown, ReturnType<typeof okv>]>([
    ['Date', new Date('2021-03-04T10:00:00.123Z'), okv('2021-03-04T10:00:00.123Z')],
    ['Date before 1970 (moon landing)', new Date(Date.UTC(1969, 6, 20, 20, 17, 40)), okv('1969-07-20T20:17:40.000Z')],
    ['Date -1 ms', new Date(-1), okv('1969-12-31T23:59:59.999Z')],
    ['Date year 99 (4-digit padding)', new Date('0099-01-01T00:00:00.000Z'), okv('0099-01-01T00:00:00.000Z')],
    ['Date year 1', new Date(MIN_TIMESTAMP_MS), okv('0001-01-01T00:00:00.000Z')],
    ['Date 9999-12-31 last ms', new Date(MAX_TIMESTAMP_MS), okv('9999-12-31T23:59:59.999Z')],
    ['epoch ms number', 1614852000123, okv('2021-03-04T10:00:00.123Z', 'date-from-epoch-ms')],
    ['negative epoch ms', -14182940000, okv('1969-07-20T20:17:40.000Z', 'date-from-epoch-ms')],
    ['epoch -0', -0, okv('1970-01-01T00:00:00.000Z', 'date-from-epoch-ms')],
    ['Int32 epoch', new Int32(1000), okv('1970-01-01T00:00:01.000Z', 'date-from-epoch-ms')],
    ['Double epoch', new Double(1614852000123), okv('2021-03-04T10:00:00.123Z', 'date-from-epoch-ms')],
    ['Long epoch', Long.fromNumber(1614852000123), okv('2021-03-04T10:00:00.123Z', 'date-from-epoch-ms')],
    ['bigint epoch', 1614852000123n, okv('2021-03-04T10:00:00.123Z', 'date-from-epoch-ms')],
    ['Decimal128 epoch', Decimal128.fromString('1614852000123'), okv('2021-03-04T10:00:00.123Z', 'date-from-epoch-ms')],
    ['digit string epoch', '1614852000123', okv('2021-03-04T10:00:00.123Z', 'date-from-epoch-ms-string')],
    ['8 digits that are not a calendar date', '12345678', okv('1970-01-01T03:25:45.678Z', 'date-from-epoch-ms-string')],
    ['negative digit string epoch', '-1', okv('1969-12-31T23:59:59.999Z', 'date-from-epoch-ms-string')],
    ['ISO Z', '2021-03-04T10:00:00Z', okv('2021-03-04T10:00:00.000Z', 'date-from-iso-string')],
    ['ISO Z with ms', '2021-03-04T10:00:00.123Z', okv('2021-03-04T10:00:00.123Z', 'date-from-iso-string')],
    ['ISO 1 fractional digit', '2021-03-04T10:00:00.5Z', okv('2021-03-04T10:00:00.500Z', 'date-from-iso-string')],
    ['ISO sub-ms zeros', '2021-03-04T10:00:00.123000Z', okv('2021-03-04T10:00:00.123Z', 'date-from-iso-string')],
    ['ISO offset', '2021-03-04T11:30:00.001+01:30', okv('2021-03-04T10:00:00.001Z', 'date-from-iso-string')],
    ['ISO negative offset compact', '2021-03-04T05:00:00-0500', okv('2021-03-04T10:00:00.000Z', 'date-from-iso-string')],
    ['ISO hour-only offset', '2021-03-04T12:00:00+02', okv('2021-03-04T10:00:00.000Z', 'date-from-iso-string')],
    ['ISO offset crossing the day', '2021-03-01T00:30:00+01:00', okv('2021-02-28T23:30:00.000Z', 'date-from-iso-string')],
    ['ISO space separator', '2021-03-04 10:00:00Z', okv('2021-03-04T10:00:00.000Z', 'date-from-iso-string')],
    ['ISO no seconds', '2021-03-04T10:00Z', okv('2021-03-04T10:00:00.000Z', 'date-from-iso-string')],
    ['ISO before 1970', '1960-02-29T12:00:00.007Z', okv('1960-02-29T12:00:00.007Z', 'date-from-iso-string')],
    ['ISO year 0099 (no 19xx quirk)', '0099-06-01T00:00:00Z', okv('0099-06-01T00:00:00.000Z', 'date-from-iso-string')],
    ['ISO trimmed', '  2021-03-04T10:00:00Z ', okv('2021-03-04T10:00:00.000Z', 'date-from-iso-string')],
    ['date only → UTC midnight', '2021-03-04', okv('2021-03-04T00:00:00.000Z', 'date-from-date-only-string')],
    ['leap day', '2000-02-29', okv('2000-02-29T00:00:00.000Z', 'date-from-date-only-string')],
  ])('%s', (_n, input, expected) => {
    expect(toTimestamp(input)).toEqual(expected);
  });

  it('naive date-times only with assumeTimeZone UTC', () => {
    expect(toTimestamp('2021-03-04T10:00:00', { assumeTimeZone: 'UTC' })).toEqual(
      okv('2021-03-04T10:00:00.000Z', 'date-from-iso-string'),
    );
  });

  it('never loses milliseconds over a sweep of instants', () => {
    for (let ms = -62135596800000; ms < 253402300799999; ms += 7_777_777_777_777) {
      const iso = new Date(ms).toISOString();
      expect(toTimestamp(new Date(ms))).toEqual(okv(iso));
      expect(toTimestamp(ms)).toEqual(okv(iso, 'date-from-epoch-ms'));
      expect(toTimestamp(iso)).toEqual(okv(iso, 'date-from-iso-string'));
    }
  });
});

describe('toTimestamp — rejected', () => {
  it.each<[string, unknown, RegExp]>([
    ['Invalid Date', new Date('nope'), /Invalid Date/],
    ['bson Timestamp', new Timestamp({ t: 1614852000, i: 1 }), /BSON Timestamp.*not a date/],
    ['naive date-time', '2021-03-04T10:00:00', /no time zone/],
    ['naive with ms', '2021-03-04 10:00:00.123', /no time zone/],
    ['sub-millisecond digits', '2021-03-04T10:00:00.1234Z', /sub-millisecond precision/],
    ['microseconds', '2021-03-04T10:00:00.123456Z', /sub-millisecond/],
    ['fractional epoch ms', 1614852000123.5, /fraction of a millisecond/],
    ['NaN', Number.NaN, /not a date/],
    ['Infinity', Number.POSITIVE_INFINITY, /not a date/],
    ['year 0', '0000-01-01T00:00:00Z', /outside the supported years 0001\.\.9999/],
    ['before year 1 by offset', '0001-01-01T00:30:00+01:00', /outside the supported years/],
    ['Date before year 1', new Date(MIN_TIMESTAMP_MS - 1), /outside the supported years/],
    ['Date after 9999', new Date(MAX_TIMESTAMP_MS + 1), /outside the supported years/],
    ['epoch microseconds read as ms (year ~53000)', 1614852000123000, /outside the supported years/],
    ['huge Long', Long.MAX_VALUE, /outside the supported years/],
    ['huge digit string', '99999999999999999999999', /outside the supported years/],
    ['Feb 30', '2021-02-30', /not a calendar date/],
    ['Feb 29 non-leap', '1900-02-29', /not a calendar date/],
    ['month 13', '2021-13-01', /not a calendar date/],
    ['hour 24', '2021-03-04T24:00:00Z', /not a valid time of day/],
    ['leap second', '2016-12-31T23:59:60Z', /not a valid time of day/],
    ['bad offset', '2021-03-04T10:00:00+25:00', /not a valid time zone offset/],
    ['human format', 'March 4, 2021', /not an ISO-8601 date/],
    ['dd/mm/yyyy', '04/03/2021', /not an ISO-8601 date/],
    ['compact YYYYMMDD digits', '20210304', /ambiguous date "20210304"/],
    ['empty', '', /empty string is not a date/],
    ['N/A', 'N/A', /not an ISO-8601 date/],
    ['boolean', true, /is a boolean, expected a date/],
    ['object', { $date: '2021-03-04' }, /is an object, expected a date/],
    ['Decimal128 fraction', Decimal128.fromString('1.5'), /fraction of a millisecond/],
  ])('%s', (_n, input, reason) => {
    const r = toTimestamp(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});

describe('isoUtc: the ISO text of every representable instant, as toISOString writes it', () => {
  it('agrees with Date#toISOString at the edges and over the whole range 0001..9999', () => {
    const edges = [MIN_TIMESTAMP_MS, MIN_TIMESTAMP_MS + 1, MAX_TIMESTAMP_MS, MAX_TIMESTAMP_MS - 1, 0, -0, -1, 1, 86_399_999, 86_400_000, -86_400_000, -86_400_001];
    // Leap days and year ends of leap, common and century years (1600, 1900, 2000, 2100).
    for (const y of [1, 4, 100, 400, 1600, 1899, 1900, 1969, 1970, 2000, 2024, 2100, 9999]) {
      for (const [m, d] of [[1, 1], [2, 28], [2, 29], [3, 1], [12, 31]] as const) {
        const t = new Date(0);
        t.setUTCFullYear(y, m - 1, d);
        t.setUTCHours(23, 59, 59, 999);
        edges.push(t.getTime(), t.getTime() - 86_399_999);
      }
    }
    for (const ms of edges) expect(isoUtc(ms), String(ms)).toBe(new Date(ms).toISOString());
    // A deterministic spread of 200,000 instants over the whole range.
    let x = 0x9e3779b9;
    const span = MAX_TIMESTAMP_MS - MIN_TIMESTAMP_MS;
    for (let i = 0; i < 200_000; i++) {
      x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
      const ms = MIN_TIMESTAMP_MS + Math.floor((x / 2 ** 32) * span) + (i % 1000);
      if (ms > MAX_TIMESTAMP_MS) continue;
      if (isoUtc(ms) !== new Date(ms).toISOString()) expect(isoUtc(ms), String(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
