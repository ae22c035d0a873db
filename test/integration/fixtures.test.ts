/**
 * The legacy-data fixture generator: every variation it reports is really in MongoDB (found by
 * queries that FerretDB can serve — no $lookup/$sample/$facet/$bucketAuto — or by reading the
 * documents back), the counts match, and the same seed gives byte-identical data.
 */
import { createHash } from 'node:crypto';
import { BSON, Long, type Db, type Document, type Filter } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabases, skipUnlessRealMongo, useTestDatabases } from '../support/databases.js';
import { generateFixtures, makePlan, type FixtureReport } from '../../dev/fixtures/generate.js';
import {
  ARRAY_FIELDS,
  COLLECTIONS,
  DATE_FIELDS,
  LONG_TEXT_CHARS,
  NUMERIC_FIELDS,
  OPTIONAL_FIELDS,
  PATTERNS,
  REAL_MONGO_ONLY,
  REF_FIELDS,
  TEXT_FIELDS,
  VARIATIONS,
  type CollectionName,
} from '../../dev/fixtures/variations.js';

const SCALE = 2000;
const SEED = 20240611;

const t = useTestDatabases();
let report: FixtureReport;

beforeAll(async () => {
  report = await generateFixtures({ db: t.db, scale: SCALE, seed: SEED, realMongo: t.isRealMongo });
}, 180_000);

type Table = Readonly<Partial<Record<CollectionName, readonly string[]>>>;

/** Documents (summed over collections) where at least one of the table's paths matches `cond`. */
async function countOver(db: Db, table: Table, cond: (path: string) => Filter<Document>): Promise<number> {
  let n = 0;
  for (const [coll, paths] of Object.entries(table) as [CollectionName, readonly string[]][]) {
    n += await db.collection(coll).countDocuments({ $or: paths.map(cond) });
  }
  return n;
}

/** Values at a dotted path, descending into arrays of sub-documents (as a MongoDB query does). */
function at(doc: unknown, path: string): unknown[] {
  let cur: unknown[] = [doc];
  for (const key of path.split('.')) {
    cur = cur.flatMap((v) => (Array.isArray(v) ? v : [v])).flatMap((v) => (v !== null && typeof v === 'object' && key in v ? [(v as Document)[key]] : []));
  }
  return cur;
}

/** Documents (summed) where some value at one of the table's paths satisfies `test`, read back in JS. */
async function countInJs(db: Db, table: Table, test: (v: unknown) => boolean, filter: (path: string) => Filter<Document> = () => ({})): Promise<number> {
  let n = 0;
  for (const [coll, paths] of Object.entries(table) as [CollectionName, readonly string[]][]) {
    const projection = Object.fromEntries(paths.map((p) => [p.split('.')[0] as string, 1]));
    const cursor = db.collection(coll).find({ $or: paths.map(filter) }, { projection, promoteValues: false, promoteLongs: false });
    for await (const doc of cursor) if (paths.some((p) => at(doc, p).some(test))) n++;
  }
  return n;
}

const ALL: Table = Object.fromEntries(COLLECTIONS.map((c) => [c, ['_']]));
const CREATED_BY: Table = { products: ['createdBy'], clients: ['createdBy'], orders: ['createdBy'], transactions: ['createdBy'], reports: ['createdBy'], goals: ['createdBy'] };
const LEGACY = ['product', 'productId', 'quantity', 'price'];
const TWO53 = 2n ** 53n;

const idKey = (v: unknown): string => (typeof v === 'string' ? v : (v as { toHexString(): string }).toHexString());

async function idSet(db: Db, coll: CollectionName): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const d of db.collection(coll).find({}, { projection: { _id: 1 } })) ids.add(idKey(d._id));
  return ids;
}

async function danglingCount(db: Db, table: Table, target: CollectionName): Promise<number> {
  const ids = await idSet(db, target);
  return countInJs(db, table, (v) => v !== null && v !== undefined && !ids.has(idKey(v)));
}

async function duplicates(db: Db, coll: CollectionName, field: string): Promise<number> {
  const seen = new Set<string>();
  let dups = 0;
  for await (const d of db.collection(coll).find({ [field]: { $type: 'string', $ne: '' } }, { projection: { workspaceId: 1, [field]: 1 } })) {
    const key = `${idKey(d.workspaceId)}|${d[field] as string}`;
    if (seen.has(key)) dups++;
    else seen.add(key);
  }
  return dups;
}

const isNumStringOther = (v: unknown): boolean =>
  typeof v === 'string' &&
  v !== '' &&
  ![PATTERNS.numberPlain, PATTERNS.numberSpaced, PATTERNS.numberNbsp, PATTERNS.numberCommaDecimal, PATTERNS.numberPadded].some((p) => new RegExp(p).test(v));

const doubleValue = (v: unknown): number | undefined =>
  v !== null && typeof v === 'object' && (v as { _bsontype?: string })._bsontype === 'Double' ? (v as { value: number }).value : typeof v === 'number' ? v : undefined;

/** How to find each variation in the database: the number of documents that carry it. */
const CHECKS: Record<string, (db: Db) => Promise<number>> = {
  'order.shape.legacy': (db) => db.collection('orders').countDocuments({ items: { $exists: false }, $or: LEGACY.map((f) => ({ [f]: { $exists: true } })) }),
  'order.shape.items': (db) => db.collection('orders').countDocuments({ items: { $exists: true }, $and: LEGACY.map((f) => ({ [f]: { $exists: false } })) }),
  'order.shape.both': (db) => db.collection('orders').countDocuments({ items: { $exists: true }, $or: LEGACY.map((f) => ({ [f]: { $exists: true } })) }),
  'order.statusHistory.long': (db) => db.collection('orders').countDocuments({ 'statusHistory.199': { $exists: true } }),

  'number.int32': (db) => countOver(db, NUMERIC_FIELDS, (p) => ({ [p]: { $type: 'int' } })),
  'number.int64': (db) => countOver(db, NUMERIC_FIELDS, (p) => ({ [p]: { $type: 'long' } })),
  'number.int64.unsafe': (db) =>
    countInJs(
      db,
      NUMERIC_FIELDS,
      (v) => v instanceof Long && (v.toBigInt() > TWO53 || v.toBigInt() < -TWO53),
      (p) => ({ [p]: { $type: 'long' } }),
    ),
  'number.double': (db) => countOver(db, NUMERIC_FIELDS, (p) => ({ [p]: { $type: 'double' } })),
  'number.decimal128': (db) => countOver(db, NUMERIC_FIELDS, (p) => ({ [p]: { $type: 'decimal' } })),
  'number.double.nan': (db) => countOver(db, NUMERIC_FIELDS, (p) => ({ [p]: NaN })),
  'number.double.infinity': (db) => countOver(db, NUMERIC_FIELDS, (p) => ({ [p]: { $in: [Infinity, -Infinity] } })),
  'number.double.negative-zero': (db) =>
    countInJs(db, NUMERIC_FIELDS, (v) => Object.is(doubleValue(v), -0), (p) => ({ [p]: { $type: 'double' } })),
  'number.string.plain': (db) => countOver(db, NUMERIC_FIELDS, (p) => ({ [p]: { $regex: PATTERNS.numberPlain } })),
  'number.string.spaced': (db) => countOver(db, NUMERIC_FIELDS, (p) => ({ [p]: { $regex: PATTERNS.numberSpaced } })),
  'number.string.nbsp': (db) => countOver(db, NUMERIC_FIELDS, (p) => ({ [p]: { $regex: PATTERNS.numberNbsp } })),
  'number.string.comma-decimal': (db) => countOver(db, NUMERIC_FIELDS, (p) => ({ [p]: { $regex: PATTERNS.numberCommaDecimal } })),
  'number.string.padded': (db) => countOver(db, NUMERIC_FIELDS, (p) => ({ [p]: { $regex: PATTERNS.numberPadded } })),
  'number.string.not-a-number': (db) => countInJs(db, NUMERIC_FIELDS, isNumStringOther, (p) => ({ [p]: { $type: 'string' } })),
  'number.string.empty': (db) => countOver(db, NUMERIC_FIELDS, (p) => ({ [p]: '' })),

  'date.iso-string': (db) => countOver(db, DATE_FIELDS, (p) => ({ [p]: { $type: 'string' } })),
  'date.epoch-ms': (db) => countOver(db, DATE_FIELDS, (p) => ({ [p]: { $type: 'number' } })),
  'date.pre-1970': (db) => countOver(db, DATE_FIELDS, (p) => ({ [p]: { $lt: new Date(0) } })),
  'date.updatedAt.missing': (db) => countOver(db, ALL, () => ({ updatedAt: { $exists: false } })),

  'optional.missing': (db) => countOver(db, OPTIONAL_FIELDS, (p) => ({ [p]: { $exists: false } })),
  'optional.null': (db) => countOver(db, OPTIONAL_FIELDS, (p) => ({ [p]: { $type: 'null' } })),
  'order.clientName.missing': (db) => db.collection('orders').countDocuments({ clientName: { $exists: false } }),
  'order.clientName.empty': (db) => db.collection('orders').countDocuments({ clientName: '' }),
  'client.phone.missing': (db) => db.collection('clients').countDocuments({ phone: { $exists: false } }),
  'client.phone.empty': (db) => db.collection('clients').countDocuments({ phone: '' }),

  'ref.dangling.client': (db) => danglingCount(db, { orders: ['clientId'] }, 'clients'),
  'ref.dangling.product': (db) => danglingCount(db, { orders: ['productId', 'items.productId'] }, 'products'),
  'ref.dangling.user': (db) => danglingCount(db, CREATED_BY, 'users'),
  'ref.dangling.order': (db) => danglingCount(db, { transactions: ['orderId'] }, 'orders'),
  'ref.hex-string': (db) => countOver(db, REF_FIELDS, (p) => ({ [p]: { $type: 'string' } })),

  'dup.client.phone': (db) => duplicates(db, 'clients', 'phone'),
  'dup.user.email': (db) => duplicates(db, 'users', 'email'),

  'text.accents': (db) => countOver(db, TEXT_FIELDS, (p) => ({ [p]: { $regex: PATTERNS.accents } })),
  'text.combining': (db) => countOver(db, TEXT_FIELDS, (p) => ({ [p]: { $regex: PATTERNS.combining } })),
  'text.emoji': (db) => countOver(db, TEXT_FIELDS, (p) => ({ [p]: { $regex: PATTERNS.emoji } })),
  'text.rtl': (db) => countOver(db, TEXT_FIELDS, (p) => ({ [p]: { $regex: PATTERNS.rtl } })),
  'text.long': (db) => countInJs(db, TEXT_FIELDS, (v) => typeof v === 'string' && v.length >= LONG_TEXT_CHARS),
  'text.nul': (db) => countInJs(db, TEXT_FIELDS, (v) => typeof v === 'string' && v.includes('\u0000')),
  'text.whitespace-padded': (db) => countOver(db, TEXT_FIELDS, (p) => ({ [p]: { $regex: PATTERNS.whitespacePadded } })),

  'drift.legacyCode': (db) => countOver(db, ALL, () => ({ legacyCode: { $exists: true } })),
  'drift.fbLeadId': (db) => countOver(db, ALL, () => ({ fbLeadId: { $exists: true } })),
  'drift.__v': (db) => countOver(db, ALL, () => ({ __v: { $exists: true } })),
  'drift.type.address-string': (db) => db.collection('clients').countDocuments({ address: { $type: 'string' } }),
  'drift.type.tags-string': (db) => db.collection('clients').countDocuments({ $and: [{ tags: { $type: 'string' } }, { tags: { $not: { $type: 'array' } } }] }),
  'array.empty': (db) => countOver(db, ARRAY_FIELDS, (p) => ({ [p]: { $size: 0 } })),

  'mixed.workspace.settings': (db) => db.collection('workspaces').countDocuments({ settings: { $type: 'object' } }),
  'mixed.decision.metrics': (db) => db.collection('decisions').countDocuments({ metrics: { $type: 'object' } }),
  'mixed.nested-array': (db) => countInJs(db, { workspaces: ['settings.shippingZones'] }, (v) => Array.isArray(v) && v.some(Array.isArray)),
  'mixed.key-with-dot': (db) =>
    countInJs(db, { workspaces: ['settings'] }, (v) => v !== null && typeof v === 'object' && Object.values(v as Document).some((x) => x !== null && typeof x === 'object' && Object.keys(x as Document).some((k) => k.includes('.')))),

  'doc.near-bson-limit': async (db) => {
    let n = 0;
    for await (const raw of db.collection('orders').find({ notes: { $type: 'string' } }, { raw: true, projection: {} })) {
      if ((raw as unknown as Uint8Array).byteLength > 14 * 1024 * 1024) n++;
    }
    return n;
  },
};

/** sha256 of every document of every collection, in _id order, as raw BSON bytes. */
async function databaseHash(db: Db): Promise<string> {
  const hash = createHash('sha256');
  for (const coll of COLLECTIONS) {
    hash.update(`\0${coll}\0`);
    for await (const raw of db.collection(coll).find({}, { sort: { _id: 1 }, raw: true })) hash.update(raw as unknown as Uint8Array);
  }
  return hash.digest('hex');
}

describe('legacy fixtures generator', () => {
  it('writes the planned number of documents per collection, as reported', async () => {
    const plan = makePlan(SCALE);
    expect(Object.keys(report.counts).sort()).toEqual([...COLLECTIONS].sort());
    for (const coll of COLLECTIONS) {
      expect(report.counts[coll], coll).toBe(plan.counts[coll]);
      expect(await t.db.collection(coll).countDocuments({}), coll).toBe(report.counts[coll]);
    }
    expect(report.counts.orders).toBe(SCALE);
  });

  it('knows how to find every variation it documents', () => {
    expect(Object.keys(report.variations).sort()).toEqual([...VARIATIONS].sort());
    expect(Object.keys(CHECKS).sort()).toEqual([...VARIATIONS].sort());
  });

  it('produces every variation the server can store, several times each', () => {
    const storable = VARIATIONS.filter((v) => t.isRealMongo || !REAL_MONGO_ONLY.includes(v));
    const rare = storable.filter((v) => (report.variations[v] ?? 0) < 2);
    expect(rare, 'variations with fewer than 2 documents').toEqual([]);
  });

  it.each(VARIATIONS.filter((v) => !REAL_MONGO_ONLY.includes(v)))('%s: the database holds exactly the reported documents', async (name) => {
    const check = CHECKS[name];
    expect(check, `no check for ${name}`).toBeDefined();
    const found = await check!(t.db);
    expect(found).toBeGreaterThan(0);
    expect(found).toBe(report.variations[name]);
  });

  it('on FerretDB reports the real-MongoDB-only variations as skipped, with a reason, and writes none of them', async (ctx) => {
    if (t.isRealMongo) ctx.skip('runs on FerretDB only; with a real MongoDB nothing is skipped (checked below)');
    expect(report.skipped.map((s) => s.variation).sort()).toEqual([...REAL_MONGO_ONLY].sort());
    for (const s of report.skipped) {
      expect(s.reason.length, s.variation).toBeGreaterThan(10);
      expect(report.variations[s.variation], s.variation).toBe(0);
    }
    // what FerretDB can be asked about without failing: none of these values is in the data
    expect(await CHECKS['text.nul']!(t.db)).toBe(0);
    expect(await CHECKS['mixed.nested-array']!(t.db)).toBe(0);
    expect(await CHECKS['number.double.negative-zero']!(t.db)).toBe(0);
  });

  it('stores the real-MongoDB-only variations when the server is a real MongoDB', async (ctx) => {
    skipUnlessRealMongo(ctx, 'FerretDB v1 cannot store Decimal128, NaN, ±Infinity, -0.0, NUL in strings, nested arrays, dotted keys');
    expect(report.skipped).toEqual([]);
    for (const name of REAL_MONGO_ONLY) {
      const found = await CHECKS[name]!(t.db);
      expect(found, name).toBeGreaterThan(0);
      expect(found, name).toBe(report.variations[name]);
    }
  });

  it('gives byte-identical data (ObjectIds included) for the same seed, and different data for another seed', async () => {
    const second = await createTestDatabases();
    const third = await createTestDatabases();
    try {
      const again = await generateFixtures({ db: second.db, scale: SCALE, seed: SEED, realMongo: t.isRealMongo, batchSize: 777 });
      expect({ ...again, durationMs: 0 }).toEqual({ ...report, durationMs: 0 });
      const first = await databaseHash(t.db);
      expect(await databaseHash(second.db)).toBe(first);

      await generateFixtures({ db: third.db, scale: SCALE, seed: SEED + 1, realMongo: t.isRealMongo });
      expect(await databaseHash(third.db)).not.toBe(first);
      // ids do not depend on the clock: the first order's id is the same in both same-seed runs
      const a = await t.db.collection('orders').find({}, { sort: { _id: 1 }, limit: 1, projection: { _id: 1 } }).next();
      const b = await second.db.collection('orders').find({}, { sort: { _id: 1 }, limit: 1, projection: { _id: 1 } }).next();
      expect(BSON.serialize(a ?? {})).toEqual(BSON.serialize(b ?? {}));
    } finally {
      await second.drop();
      await third.drop();
    }
  }, 180_000);
});
