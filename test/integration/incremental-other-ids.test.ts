/**
 * `migrate --incremental` (no --detect-* flag, as cron runs it) on a collection without
 * updatedAt whose `_id`s are not ObjectIds: new documents are found by comparing every `_id`
 * with the registry. Before, only an `_id` above the highest migrated ObjectId counted as new:
 * string and numeric `_id`s were never synced, and the run said "nothing to do" (found by a
 * black-box run on an Airbnb-like data set with string ids).
 */
import { Int32, ObjectId } from 'mongodb';
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
});
