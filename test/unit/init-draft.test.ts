/**
 * init's drafting rules on documents built in memory (the same histogram and value profiles a
 * scan builds), checked through the rendered schema and configuration.
 */
import { DBRef, Decimal128, Long, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { HISTOGRAM_READ_OPTIONS, TypeHistogram } from '../../src/core/type-histogram.js';
import { BSON } from 'bson';
import { EXACT_READ_OPTIONS } from '../../src/source/mongo-source.js';
import { buildDraft, renderDraft } from '../../src/use-cases/init/build-draft.js';
import type { CollectionProfile } from '../../src/use-cases/init/init-scan.js';
import { ValueProfiler, referenceKey } from '../../src/use-cases/init/value-profile.js';

/** What scanForInit builds, from documents in memory (round-tripped through BSON like a read). */
function profile(name: string, docs: Record<string, unknown>[]): CollectionProfile {
  const histogram = new TypeHistogram();
  const values = new ValueProfiler();
  for (const doc of docs) {
    const raw = BSON.serialize({ _id: new ObjectId(), ...doc });
    histogram.observe(BSON.deserialize(raw, HISTOGRAM_READ_OPTIONS));
    values.observe(BSON.deserialize(raw, EXACT_READ_OPTIONS));
  }
  const ids = new Set([...(values.paths.get('_id')?.distinct?.keys() ?? [])]);
  return { name, documents: docs.length, histogram: histogram.toJSON(), values: values.paths, ids, sampled: false };
}

async function draftOf(...profiles: CollectionProfile[]) {
  return renderDraft(buildDraft(profiles), ['test']);
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('init: column types from what the converters accept', () => {
  it('amounts as doubles, Decimal128 and decimal strings become one Decimal wide enough for all', async () => {
    const docs = range(30).map((i) => ({ price: i % 3 === 0 ? `${i}.125` : i % 3 === 1 ? Decimal128.fromString(`${1000 + i}.5`) : i + 0.25 }));
    const { schema } = await draftOf(profile('things', docs));
    // 4 integer digits and 3 decimals seen, plus 2 integer digits of room.
    expect(schema).toMatch(/price Decimal @db\.Decimal\(9, 3\)/);
  });

  it('integers beyond 32 bits are BigInt; within, Int; doubles that are measurements, Float', async () => {
    const docs = range(20).map((i) => ({ big: Long.fromString(`${9007199254740000 + i}`), small: i, ratio: i / 7 }));
    const { schema } = await draftOf(profile('things', docs));
    expect(schema).toMatch(/big BigInt/);
    expect(schema).toMatch(/small Int/);
    expect(schema).toMatch(/ratio Float/);
  });

  it('Decimal128 stays Decimal: "123.00" keeps its 2 decimals (not Int), 9 decimals are no measurement (not Float)', async () => {
    const docs = range(20).map((i) => ({
      deposit: Decimal128.fromString(`${100 + i}.00`),
      amount: Decimal128.fromString(i === 3 ? '0.123456789' : `${i}.5`),
      guests: Decimal128.fromString(String(1 + (i % 4))),
    }));
    const { schema } = await draftOf(profile('listings', docs));
    expect(schema).toMatch(/deposit Decimal @db\.Decimal\(7, 2\)/);
    expect(schema).toMatch(/amount Decimal @db\.Decimal\(13, 9\)/);
    expect(schema).toMatch(/guests Decimal @db\.Decimal\(3, 0\)/);
  });

  it('doubles with many NaN / ±Infinity: Float, those values to legacyExtra (JSON cannot hold them either)', async () => {
    const docs = range(40).map((i) => ({ reading: i % 5 === 0 ? (i % 10 === 0 ? Number.NaN : Number.NEGATIVE_INFINITY) : i + 0.5 }));
    const { schema, config } = await draftOf(profile('sensors', docs));
    expect(schema).toMatch(/reading Float\?/);
    expect(config.config.collections?.sensors?.fields?.reading).toEqual({ onInvalid: 'extra' });
  });

  it('naive date strings: DateTime with assumeTimeZone UTC, said in the configuration with the count', async () => {
    const docs = range(20).map((i) => ({ seenAt: i % 2 ? new Date(Date.UTC(2020, 0, i + 1)) : `2020-02-${String(i + 1).padStart(2, '0')}T10:00:00` }));
    const { schema, config } = await draftOf(profile('things', docs));
    expect(schema).toMatch(/seenAt DateTime @map\("seen_at"\) @db\.Timestamptz\(3\)/);
    expect(config.config.collections?.things?.fields?.seenAt).toEqual({ assumeTimeZone: 'UTC' });
    expect(config.text).toMatch(/10 without a time zone \(read as UTC\)/);
  });

  it('a few values a type cannot take: the column is optional and they go to legacyExtra (onInvalid extra)', async () => {
    const docs = range(40).map((i) => ({ qty: i === 7 ? 'lots' : i }));
    const { schema, config } = await draftOf(profile('things', docs));
    expect(schema).toMatch(/qty Int\?/);
    expect(config.config.collections?.things?.fields?.qty).toEqual({ onInvalid: 'extra' });
    expect(config.text).toMatch(/1 value\(s\) it cannot take go to legacyExtra/);
    // The comment shows the value that motivated it.
    expect(config.text).toMatch(/e\.g\. "lots": is a string/);
  });
});

describe('init: relations and their threshold', () => {
  const users = range(10).map((i) => ({ _id: new ObjectId(), email: `u${i}@x.org` }));

  it('an ObjectId field found among another collection\'s _ids is a relation; below 90% it is not, and the comment says how many were found', async () => {
    const u = profile('users', users);
    // Overwrite the generated _ids with the users' own.
    const usersProfile: CollectionProfile = { ...u, ids: new Set(users.map((x) => referenceKey(x._id))) };
    const posts = profile('posts', range(20).map((i) => ({ author: (users[i % 10] as { _id: ObjectId })._id, editor: i < 10 ? (users[i] as { _id: ObjectId })._id : new ObjectId() })));
    const { schema } = await draftOf(usersProfile, posts);
    expect(schema).toMatch(/authorId String @map\("author_id"\) @db\.Uuid/);
    expect(schema).toMatch(/100% of 20 found in users\._id: a relation/);
    expect(schema).toMatch(/50% of its values found in users\._id: below 90%, not a relation/);
    expect(schema).not.toMatch(/fields: \[editor/);
  });

  it('a field of DBRefs to another collection is a relation like one of ObjectIds (Spring Data, Morphia)', async () => {
    const u = profile('users', users);
    const usersProfile: CollectionProfile = { ...u, ids: new Set(users.map((x) => referenceKey(x._id))) };
    const posts = profile('posts', range(20).map((i) => ({ author: new DBRef('users', (users[i % 10] as { _id: ObjectId })._id) })));
    const { schema } = await draftOf(usersProfile, posts);
    expect(schema).toMatch(/authorId String @map\("author_id"\) @db\.Uuid/);
    expect(schema).toMatch(/100% of 20 found in users\._id: a relation/);
    expect(schema).toMatch(/100% ObjectId \(100% as the \$id of a DBRef\)/);
  });

  it('`user` and `userId` both holding the reference: two relations, no field named twice (init exited 3 on its own schema)', async () => {
    const usersProfile: CollectionProfile = { ...profile('users', users), ids: new Set(users.map((x) => referenceKey(x._id))) };
    const sessions = profile('sessions', range(20).map((i) => ({ user: (users[i % 10] as { _id: ObjectId })._id, userId: (users[i % 10] as { _id: ObjectId })._id })));
    const { schema } = await draftOf(usersProfile, sessions);
    expect(schema).toMatch(/userId String @map\("user_id"\) @db\.Uuid/);
    expect(schema).toMatch(/userRefId String @map\("user_ref_id"\) @db\.Uuid/);
    expect(schema).toMatch(/fields: \[userRefId\], references: \[id\]/);
  });

  it("a field holding each document's own _id once is no relation to itself (zips.zip beside _id)", async () => {
    const zips = range(30).map((i) => ({ _id: `0${1000 + i}`, zip: `0${1000 + i}`, city: `City ${i}` }));
    const histogram = new TypeHistogram();
    const values = new ValueProfiler();
    for (const doc of zips) {
      const raw = BSON.serialize(doc);
      histogram.observe(BSON.deserialize(raw, HISTOGRAM_READ_OPTIONS));
      values.observe(BSON.deserialize(raw, EXACT_READ_OPTIONS));
    }
    const p: CollectionProfile = { name: 'zips', documents: zips.length, histogram: histogram.toJSON(), values: values.paths, ids: new Set(zips.map((z) => referenceKey(z._id))), sampled: false };
    const { schema } = await draftOf(p);
    expect(schema).toMatch(/ zip String @map\("zip"\)| zip String\n/);
    expect(schema).not.toMatch(/@relation/);
  });

  it('a required reference in a cycle becomes optional; the other required references stay required', async () => {
    const teams = range(3).map(() => ({ _id: new ObjectId() }));
    const people = range(6).map((i) => ({ _id: new ObjectId(), teamId: (teams[i % 3] as { _id: ObjectId })._id }));
    const teamDocs = teams.map((t, i) => ({ ...t, leaderId: (people[i] as { _id: ObjectId })._id }));
    const withIds = (name: string, docs: { _id: ObjectId }[]) => ({ ...profile(name, docs), ids: new Set(docs.map((d) => referenceKey(d._id))) });
    const tasks = range(6).map((i) => ({ ownerId: (people[i] as { _id: ObjectId })._id }));
    const { schema } = await draftOf(withIds('teams', teamDocs), withIds('people', people), profile('tasks', tasks));
    expect(schema).toMatch(/leaderId String\? /);
    expect(schema).toMatch(/teamId String\? /);
    expect(schema).toMatch(/ownerId String @map/);
  });
});

describe("init: a document's own _id when it is not an ObjectId", () => {
  it('binary UUIDs and compound documents as JSON, dates as DateTime; ObjectIds get no column', async () => {
    const { Binary } = await import('bson');
    const devices = profile('devices', range(12).map((i) => ({ _id: new Binary(Buffer.alloc(16, i), 4), name: `d${i}` })));
    const hourly = profile('hourly', range(12).map((i) => ({ _id: { device: `SN-${i % 3}`, hour: new Date(Date.UTC(2024, 0, 1, i)) }, n: i })));
    const days = profile('days', range(12).map((i) => ({ _id: new Date(Date.UTC(2024, 0, 1 + i)), n: i })));
    const plain = profile('plain', range(12).map((i) => ({ n: i })));
    const { schema, config } = await draftOf(devices, hourly, days, plain);
    const model = (name: string) => new RegExp(`model ${name} \\{[^}]*\\}`).exec(schema)?.[0] ?? '';
    expect(model('Device')).toMatch(/legacyId Json\? @map\("legacy_id"\)/);
    expect(model('Hourly')).toMatch(/legacyId Json\? @map\("legacy_id"\)/);
    expect(model('Day')).toMatch(/legacyId DateTime @unique @map\("legacy_id"\)/);
    expect(model('Plain')).not.toMatch(/legacyId/);
    expect(config.config.collections?.devices?.fields?.legacyId).toBe('_id');
    expect(config.config.collections?.days?.fields?.legacyId).toBe('_id');
  });
});
