/**
 * A migration killed right after a commit resumes after the last committed `_id`, whatever its
 * type, on the server the tests run against (FerretDB v1 here, a real MongoDB through
 * MONGO_URI). The resume filter once named a BSON type FerretDB does not know: after a kill
 * whose last committed `_id` was a number, every rerun failed (exit 6, "Unknown type name
 * alias: symbol"). After the rerun: exactly the source's documents, each once, and verify agrees.
 */
import { Double, Int32, Long, ObjectId, type Document, type Filter } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { createTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { expectExact } from '../support/crash-checks.js';
import { simpleOrder } from '../support/simple-orders.js';
import { sourceIdKey } from '../../src/core/ids.js';

const N = 60;
const BATCH = 10;
const base = Date.UTC(2021, 0, 1);

/** `_id`s per case, and where the run is killed (after the n-th commit of orders). */
const CASES: { name: string; ids: () => unknown[]; batch?: number; killAfterCommit: number }[] = [
  { name: 'Int32', ids: () => Array.from({ length: N }, (_, j) => new Int32(j * 3 - 40)), killAfterCommit: 3 },
  { name: 'Int64', ids: () => Array.from({ length: N }, (_, j) => Long.fromString(String(4_000_000_000n + BigInt(j) * 7n))), killAfterCommit: 3 },
  { name: 'Double', ids: () => Array.from({ length: N }, (_, j) => new Double(j / 4 + 0.125)), killAfterCommit: 3 },
  { name: 'String', ids: () => Array.from({ length: N }, (_, j) => `legacy-${String(j).padStart(3, '0')}`), killAfterCommit: 3 },
  { name: 'Date', ids: () => Array.from({ length: N }, (_, j) => new Date(base + j * 60_000)), killAfterCommit: 3 },
  { name: 'ObjectId', ids: () => Array.from({ length: N }, () => new ObjectId()), killAfterCommit: 3 },
  {
    // Numbers of three types first (the kill lands among them), then strings, ObjectIds and Dates.
    name: 'mixed',
    ids: () => [
      ...Array.from({ length: 12 }, (_, j) => new Int32(j * 2)),
      ...Array.from({ length: 12 }, (_, j) => Long.fromNumber(j * 2 + 1)),
      ...Array.from({ length: 12 }, (_, j) => new Double(j * 2 + 0.5)),
      ...Array.from({ length: 8 }, (_, j) => `legacy-${j}`),
      ...Array.from({ length: 8 }, () => new ObjectId()),
      ...Array.from({ length: 8 }, (_, j) => new Date(base + j * 1000)),
    ],
    killAfterCommit: 3,
  },
  {
    // The last committed _id is the null one (set aside: a null _id is no identity), and every later type must still be read.
    name: 'mixed, killed right after a null _id',
    ids: () => [null, new Int32(1), Long.fromNumber(2), new Double(2.5), 'a', new ObjectId(), new Date(base)],
    batch: 1,
    killAfterCommit: 1,
  },
];

describe('kill -9 after a commit, then rerun: resumes after an _id of any type', () => {
  for (const c of CASES) {
    it(`${c.name} _ids`, async () => {
      const db = await createTestDatabases();
      try {
        const env = { MONGO_URI: mongoUriFor(db.mongoUri, db.mongoDbName), DATABASE_URL: db.databaseUrl };
        const ws = new ObjectId();
        await db.db.collection('workspaces').insertOne({ _id: ws, name: 'Shop', slug: 'shop', currency: 'XOF', createdAt: new Date(base) });
        const ids = c.ids();
        // The insert command itself: the driver's insertMany replaces a null _id with a new ObjectId.
        await db.db.command({
          insert: 'orders',
          documents: ids.map((id, j) => simpleOrder(id, ws, j, base)),
        });
        expect((await runCli(['migrate', 'workspaces'], env)).code).toBe(0);
        const batch = String(c.batch ?? BATCH);
        const killed = await runCli(['migrate', 'orders', '--batch-size', batch], { ...env, HYBRID_MIGRATE_FAULT: `migrate:after-commit:${c.killAfterCommit}` });
        expect(killed.signal, killed.stderr).toBe('SIGKILL');
        const partial = await db.pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM orders`);
        const nullIds = ids.filter((id) => id === null).length;
        expect(partial.rows[0]?.n).toBe(c.killAfterCommit * Number(batch) - nullIds);

        const rerun = await runCli(['migrate', 'orders', '--batch-size', batch], env);
        expect(rerun.code, rerun.stderr).toBe(0);
        expect(rerun.stderr).not.toMatch(/Unknown type name alias/);

        if (nullIds === 0) await expectExact(db, env);
        else {
          const rejects = await db.pg.query<{ source_key: string; reason: string }>(`SELECT source_key, reason FROM hybrid_migrate.rejects`);
          expect(rejects.rows).toEqual([{ source_key: 'null:', reason: 'document has no _id' }]);
          const v = await runCli(['verify', 'orders', '--json', '--no-report'], env);
          expect(v.code, v.stderr).toBe(0);
          expect(JSON.parse(v.stdout).collections[0]).toMatchObject({ source: ids.length, rejected: nullIds, missing: 0, extra: 0, mismatched: 0 });
        }
        // Each source _id once in the registry, under its own key.
        const source = new Set<string>();
        for await (const d of db.db.collection('orders').find({ _id: { $ne: null } } as unknown as Filter<Document>, { projection: { _id: 1 }, useBigInt64: true })) source.add(sourceIdKey(d._id));
        expect(source.size).toBe(ids.length - nullIds);
        const mapped = await db.pg.query<{ source_key: string }>(`SELECT source_key FROM hybrid_migrate.id_map WHERE collection = 'orders'`);
        expect(mapped.rows.length).toBe(source.size);
        expect(new Set(mapped.rows.map((r) => r.source_key))).toEqual(source);
        const rows = await db.pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM orders`);
        expect(rows.rows[0]?.n).toBe(source.size);
      } finally {
        await db.drop();
      }
    });
  }
});
