/**
 * Epoch numbers in DateTime fields: `epoch: 'seconds'` per field reads them as seconds (to the
 * millisecond, every numeric type and numeric strings); without it they are milliseconds as
 * before, and one whose magnitude says seconds (1612345678 → 1970-01-19 as ms) is reported by
 * the mapping as `looks-like-epoch-seconds`, which plan lists with what to set. Pure.
 */
import { Decimal128, Double, Int32, Long, ObjectId } from 'bson';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toTimestamp, looksLikeEpochSeconds, EPOCH_SECONDS_SUSPECT } from '../../src/core/values/timestamp.js';
import { parsePrismaSchema } from '../../src/schema/prisma-schema.js';
import { resolveMapping } from '../../src/config/resolve-mapping.js';
import { validateConfigShape } from '../../src/config/validate-config.js';
import { convertDocument } from '../../src/core/transform.js';
import { PlanFindings } from '../../src/core/plan-findings.js';
import type { FieldMapping, HybridMigrateConfig } from '../../src/config/define-config.js';
import type { MappedCollection } from '../../src/core/mapping.js';

const okv = (value: string, coercion?: string) => (coercion ? { ok: true, value, coercion } : { ok: true, value });
const seconds = { epoch: 'seconds' } as const;

describe("toTimestamp with epoch: 'seconds'", () => {
  it.each<[string, unknown, ReturnType<typeof okv>]>([
    ['number', 1612345678, okv('2021-02-03T09:47:58.000Z', 'date-from-epoch-seconds')],
    ['Int32', new Int32(1612345678), okv('2021-02-03T09:47:58.000Z', 'date-from-epoch-seconds')],
    ['Long', Long.fromNumber(1612345678), okv('2021-02-03T09:47:58.000Z', 'date-from-epoch-seconds')],
    ['bigint', 1612345678n, okv('2021-02-03T09:47:58.000Z', 'date-from-epoch-seconds')],
    ['Double with milliseconds', new Double(1612345678.123), okv('2021-02-03T09:47:58.123Z', 'date-from-epoch-seconds')],
    ['number with half a second', 1612345678.5, okv('2021-02-03T09:47:58.500Z', 'date-from-epoch-seconds')],
    ['Decimal128', Decimal128.fromString('1612345678.250'), okv('2021-02-03T09:47:58.250Z', 'date-from-epoch-seconds')],
    ['digit string', '1612345678', okv('2021-02-03T09:47:58.000Z', 'date-from-epoch-seconds-string')],
    ['decimal string', ' 1612345678.9 ', okv('2021-02-03T09:47:58.900Z', 'date-from-epoch-seconds-string')],
    ['negative (before 1970)', -14182940, okv('1969-07-20T20:17:40.000Z', 'date-from-epoch-seconds')],
    ['zero', 0, okv('1970-01-01T00:00:00.000Z', 'date-from-epoch-seconds')],
    ['the last second of 9999', 253402300799, okv('9999-12-31T23:59:59.000Z', 'date-from-epoch-seconds')],
  ])('%s', (_what, value, expected) => {
    expect(toTimestamp(value, seconds)).toEqual(expected);
  });

  it.each<[string, unknown, RegExp]>([
    ['a fraction of a millisecond', 1612345678.0001, /fraction of a millisecond/],
    ['beyond year 9999', 253402300800, /outside the supported years/],
    ['far beyond (epoch milliseconds given to a seconds field)', 1612345678000, /outside the supported years/],
    ['NaN', Number.NaN, /is not a date/],
    ['a compact date string', '20210304', /ambiguous date/],
  ])('rejects %s', (_what, value, reason) => {
    const r = toTimestamp(value, seconds);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  it('leaves Dates and ISO strings to the usual rules', () => {
    expect(toTimestamp(new Date('2021-02-03T09:47:58.123Z'), seconds)).toEqual(okv('2021-02-03T09:47:58.123Z'));
    expect(toTimestamp('2021-02-03T09:47:58Z', seconds)).toEqual(okv('2021-02-03T09:47:58.000Z', 'date-from-iso-string'));
  });
});

describe('without the option (or with milliseconds): epoch numbers are milliseconds, as before', () => {
  it.each([undefined, 'milliseconds' as const])('epoch %s', (epoch) => {
    expect(toTimestamp(1612345678, { epoch })).toEqual(okv('1970-01-19T15:52:25.678Z', 'date-from-epoch-ms'));
    expect(toTimestamp(1612345678000, { epoch })).toEqual(okv('2021-02-03T09:47:58.000Z', 'date-from-epoch-ms'));
  });

  it('says which values look like seconds: non-zero, below 1e11 as milliseconds (before 1973-03-03)', () => {
    for (const v of [1612345678, new Int32(1612345678), Long.fromNumber(1612345678), 1612345678n, '1612345678', -14182940, Decimal128.fromString('99999999999')]) expect(looksLikeEpochSeconds(v), String(v)).toBe(true);
    for (const v of [0, 1e11, 1612345678000, Long.fromNumber(1612345678000), '1612345678000', new Date(0), 'yesterday', null]) expect(looksLikeEpochSeconds(v), String(v)).toBe(false);
  });
});

describe('the epoch setting of a field mapping', () => {
  const schema = parsePrismaSchema(readFileSync(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8'));
  const users = (lastLoginAt?: FieldMapping): MappedCollection => {
    const config: HybridMigrateConfig = { collections: { users: { model: 'User', ...(lastLoginAt ? { fields: { lastLoginAt } } : {}) } } };
    expect(validateConfigShape(config)).toEqual([]);
    const { mapping, issues } = resolveMapping(config, schema, ['users']);
    expect(issues).toEqual([]);
    return mapping.collections.get('users') as MappedCollection;
  };
  const lastLogin = (c: MappedCollection, value: unknown) => {
    const r = convertDocument(c, { _id: new ObjectId('5f1d7a3b2c4e5f6a7b8c9d01'), workspaceId: new ObjectId('5f1d7a3b2c4e5f6a7b8c9d02'), email: 'a@example.com', lastLoginAt: value });
    if (!r.ok) throw new Error(r.reason);
    const columns = c.columns.filter((x) => x.source.kind !== 'none');
    return { value: r.doc.rows[0]?.values[columns.findIndex((x) => x.column.field === 'lastLoginAt')], coercions: r.doc.coercions.filter((k) => k.startsWith('lastLoginAt:')) };
  };

  it("epoch: 'seconds' converts seconds", () => {
    expect(lastLogin(users({ epoch: 'seconds' }), 1612345678)).toEqual({ value: '2021-02-03T09:47:58.000Z', coercions: ['lastLoginAt:date-from-epoch-seconds'] });
  });

  it('unset: milliseconds as before, and the value that looks like seconds is reported', () => {
    expect(lastLogin(users(), 1612345678)).toEqual({ value: '1970-01-19T15:52:25.678Z', coercions: ['lastLoginAt:date-from-epoch-ms', `lastLoginAt:${EPOCH_SECONDS_SUSPECT}`] });
    expect(lastLogin(users(), 1612345678000)).toEqual({ value: '2021-02-03T09:47:58.000Z', coercions: ['lastLoginAt:date-from-epoch-ms'] });
    expect(lastLogin(users(), new Date(5))).toEqual({ value: '1970-01-01T00:00:00.005Z', coercions: [] });
  });

  it("epoch: 'milliseconds' says the small values are meant: not reported", () => {
    expect(lastLogin(users({ epoch: 'milliseconds' }), 1612345678)).toEqual({ value: '1970-01-19T15:52:25.678Z', coercions: ['lastLoginAt:date-from-epoch-ms'] });
  });

  it('unset, it changes nothing of the mapping (same options, so the same checkpoint fingerprint)', () => {
    const c = users();
    for (const col of c.columns) expect(Object.keys(col.options).sort()).toEqual(['assumeTimeZone', 'nul', 'onInvalid']);
  });

  it('is refused on a field that is not a DateTime, and with another value', () => {
    const { issues } = resolveMapping({ collections: { users: { model: 'User', fields: { email: { epoch: 'seconds' } } } } }, schema, ['users']);
    expect(issues).toEqual([{ path: 'collections.users.fields.email.epoch', message: 'applies to DateTime fields; "User.email" is not one' }]);
    expect(validateConfigShape({ collections: { users: { fields: { lastLoginAt: { epoch: 'minutes' } } } } }).map((i) => i.path)).toEqual(['collections.users.fields.lastLoginAt.epoch']);
  });
});

describe('plan findings', () => {
  it('carry what to set for values that look like epoch seconds', () => {
    const f = new PlanFindings();
    for (const id of ['a', 'b', 'c']) {
      f.coercion(id, 'lastLoginAt:date-from-epoch-ms');
      f.coercion(id, `lastLoginAt:${EPOCH_SECONDS_SUSPECT}`);
    }
    const found = f.toJSON().coercions.find((c) => c.coercion === EPOCH_SECONDS_SUSPECT);
    expect(found).toMatchObject({ field: 'lastLoginAt', count: 3, sampleIds: ['a', 'b', 'c'] });
    expect(found?.note).toBe("looks like epoch seconds: 3 value(s) of lastLoginAt are read as epoch milliseconds (dates between 1966 and 1973); if they count seconds, set epoch: 'seconds' in the mapping of this field");
    expect(f.toJSON().coercions.find((c) => c.coercion === 'date-from-epoch-ms')).not.toHaveProperty('note');
  });
});
