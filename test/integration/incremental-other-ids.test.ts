/**
 * `migrate --incremental` (no --detect-* flag, as cron runs it) on a collection without
 * updatedAt whose `_id`s are not ObjectIds: new documents are found by comparing every `_id`
 * with the registry. Before, only an `_id` above the highest migrated ObjectId counted as new:
 * string and numeric `_id`s were never synced, and the run said "nothing to do" (found by a
 * black-box run on an Airbnb-like data set with string ids).
 */
import { Binary, Int32, ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { createTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { simpleOrder } from '../support/simple-orders.js';

describe('migrate --incremental finds new documents of any _id type without updatedAt', () => {
  it('string, integer and ObjectId _ids inserted after the migration, below and above the migrated ones', async () => {
    const db = await createTestDatabases();
    try {
      const env = { MONGO_URI: mongoUriFor(db.mongoUri, db.mongoDbName), DATABASE_URL: db.databaseUrl };
      const ws = new ObjectId();
      await db.db.collection('workspaces').insertOne({ _id: ws, name: 'Shop', slug: 'shop', currency: 'XOF', createdAt: new Date(Date.UTC(2021, 0, 1)) });
      const first = [...Array.from({ length: 10 }, (_, j) => `listing-${String(j * 10).padStart(3, '0')}`), ...Array.from({ length: 5 }, (_, j) => new Int32(100 + j)), new ObjectId()];
      await db.db.collection('orders').insertMany(first.map((id, j) => simpleOrder(id, ws, j)) as never[]);
      const migrate = await runCli(['migrate', '--skip-missing-collections', '--batch-size', '4'], env);
      expect(migrate.code, migrate.stderr).toBe(0);

      // New: a string between two migrated ones, an integer below them all, an ObjectId above the high-water mark.
      const added = ['listing-005', new Int32(7), new ObjectId()];
      await db.db.collection('orders').insertMany(added.map((id, j) => simpleOrder(id, ws, 50 + j)) as never[]);
      const sync = await runCli(['migrate', 'orders', '--incremental', '--batch-size', '4', '--json'], env);
      expect(sync.code, sync.stderr).toBe(0);
      const orders = (JSON.parse(sync.stdout) as { collections: { name: string; migrated: number }[] }).collections.find((c) => c.name === 'orders');
      expect(orders?.migrated).toBe(3);
      const rows = await db.pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM orders`);
      expect(rows.rows[0]?.n).toBe(first.length + added.length);
      const verify = await runCli(['verify', 'orders', '--no-report', '--json'], env);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);

      // Nothing new: nothing written.
      const again = await runCli(['migrate', 'orders', '--incremental', '--json'], env);
      expect(again.code, again.stderr).toBe(0);
      expect((JSON.parse(again.stdout) as { collections: { name: string; migrated: number }[] }).collections.find((c) => c.name === 'orders')?.migrated).toBe(0);
    } finally {
      await db.drop();
    }
  }, 180_000);

  it('a deleted document whose _id is a binary UUID, a date or a compound document: found by verify, status and --detect-deletes', async () => {
    // Before: their registry keys could not be read back into an _id, so --detect-deletes
    // skipped them (the rows stayed for ever), verify said "agree" (exit 0) with one row more
    // than documents, and status called the collection ready for Phase 3.
    const db = await createTestDatabases();
    try {
      const env = { MONGO_URI: mongoUriFor(db.mongoUri, db.mongoDbName), DATABASE_URL: db.databaseUrl };
      const ws = new ObjectId();
      await db.db.collection('workspaces').insertOne({ _id: ws, name: 'Shop', slug: 'shop', currency: 'XOF', createdAt: new Date(Date.UTC(2021, 0, 1)) });
      const uuid = (n: number) => new Binary(Buffer.from(`0f8fad5bd9cb469fa16570867728950${n}`, 'hex'), 4);
      const ids = [uuid(1), uuid(2), new Date(Date.UTC(2022, 1, 3)), new Date(Date.UTC(2022, 1, 4)), { device: 'SN-1, "b"}', hour: new Date(Date.UTC(2023, 0, 1)) }, { device: 'SN-2', hour: new Date(Date.UTC(2023, 0, 1)) }];
      await db.db.collection('orders').insertMany(ids.map((id, j) => simpleOrder(id, ws, j)) as never[]);
      const migrate = await runCli(['migrate', '--skip-missing-collections', '--json'], env);
      expect(migrate.code, migrate.stderr).toBe(0);
      expect((await db.pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM orders`)).rows[0]?.n).toBe(ids.length);
      const clean = await runCli(['verify', 'orders', '--no-report', '--json'], env);
      expect(clean.code, clean.stdout + clean.stderr).toBe(0);
      expect(JSON.parse(clean.stdout).collections[0]).toMatchObject({ extra: 0, uncheckedRegistry: 0 });

      await db.db.collection('orders').deleteMany({ _id: { $in: [ids[1], ids[3], ids[4]] } } as never);
      const verify = await runCli(['verify', 'orders', '--no-report', '--json'], env);
      expect(verify.code, verify.stdout + verify.stderr).toBe(1);
      expect(JSON.parse(verify.stdout).collections[0]).toMatchObject({ source: 3, extra: 3, uncheckedRegistry: 0 });
      const status = await runCli(['status', 'orders', '--exact', '--json'], env);
      const before = (JSON.parse(status.stdout) as { collections: { name: string; deletedInSource: number; readyForPhase3: { ready: boolean; blockers: string[] } }[] }).collections.find((c) => c.name === 'orders');
      expect(before?.deletedInSource).toBe(3);
      expect(before?.readyForPhase3.ready).toBe(false);
      expect(before?.readyForPhase3.blockers.join('\n')).toMatch(/3 migrated documents deleted in MongoDB still have their rows/);

      const sync = await runCli(['migrate', 'orders', '--incremental', '--detect-deletes', '--json'], env);
      expect(sync.code, sync.stderr).toBe(0);
      expect((JSON.parse(sync.stdout) as { collections: { name: string; deletedInSource: number }[] }).collections.find((c) => c.name === 'orders')?.deletedInSource).toBe(3);
      expect((await db.pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM orders`)).rows[0]?.n).toBe(3);
      const after = await runCli(['verify', 'orders', '--no-report', '--json'], env);
      expect(after.code, after.stdout + after.stderr).toBe(0);
    } finally {
      await db.drop();
    }
  }, 180_000);
});
