/**
 * migrate --incremental, as cron runs it during the hybrid period: what changed in MongoDB
 * since the last run arrives, nothing is skipped (shared timestamps, late inserts), nothing
 * the application changed is overwritten, and a run with nothing new writes nothing.
 */
import { ObjectId, type Document } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabases, useTestDatabases, type TestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli, startCli } from '../support/cli.js';
import { insertSimpleOrders } from '../support/simple-orders.js';
import { objectIdToUuid } from '../../src/core/ids.js';

const t = useTestDatabases();
let env: { MONGO_URI: string; DATABASE_URL: string };

beforeAll(async () => {
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
  await insertSimpleOrders(t.db, 2000);
  const r = await runCli(['migrate', '--skip-missing-collections'], env);
  expect(r.code, r.stderr).toBe(0);
});

/** Every MongoDB order has its row with the same client name and status, and its items; nothing else was migrated. */
async function expectEqual(db: TestDatabases): Promise<void> {
  const source = new Map<string, Document>();
  for await (const d of db.db.collection('orders').find({})) source.set(objectIdToUuid(d._id as ObjectId), d);
  const rows = await db.pg.query<{ id: string; client_name: string; status: string; items: number }>(
    `SELECT o.id, o.client_name, o.status::text, (SELECT count(*)::int FROM order_items i WHERE i.order_id = o.id) AS items
       FROM orders o JOIN hybrid_migrate.id_map m ON m.uuid = o.id`,
  );
  expect(rows.rows.length).toBe(source.size);
  for (const row of rows.rows) {
    const doc = source.get(row.id);
    expect(doc, `row ${row.id} has no source document`).toBeDefined();
    expect({ client: row.client_name, status: row.status, items: row.items }).toEqual({ client: doc?.clientName, status: doc?.status, items: (doc?.items as unknown[]).length });
  }
}

/** Proof that nothing was written: no row of any table carries a transaction id from the run, and counts did not move. */
async function writesNothing(db: TestDatabases, run: () => Promise<void>): Promise<void> {
  const tables = (await db.pg.query<{ t: string }>(`SELECT format('%I.%I', schemaname, relname) AS t FROM pg_stat_user_tables WHERE schemaname IN ('public', 'hybrid_migrate')`)).rows.map((r) => r.t);
  const counts = async () => Promise.all(tables.map(async (tb) => `${tb}:${(await db.pg.query(`SELECT count(*) AS n FROM ${tb}`)).rows[0].n}`));
  const before = await counts();
  const txid = Number((await db.pg.query(`SELECT txid_current()::text AS x`)).rows[0].x);
  await run();
  for (const tb of tables) {
    const r = await db.pg.query(`SELECT count(*)::int AS n FROM ${tb} WHERE xmin::text::bigint > $1`, [txid]);
    expect(r.rows[0], `rows written in ${tb}`).toEqual({ n: 0 });
  }
  expect(await counts()).toEqual(before);
}

describe('migrate --incremental', () => {
  it('writes nothing and exits 0 quickly when nothing changed; cron gets only the summary', async () => {
    await writesNothing(t, async () => {
      const r = await runCli(['migrate', 'workspaces', 'orders', '--incremental', '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout);
      expect(out).toMatchObject({ incremental: true, wrote: false });
      expect(r.ms).toBeLessThan(15_000);
    });
  });

  it('brings over 1,000 documents that share one updatedAt, across batches and an interruption', async () => {
    const shared = new Date(Date.now() + 1000);
    const ids = (await t.db.collection('orders').find({}, { projection: { _id: 1 }, sort: { _id: 1 }, limit: 1000 }).toArray()).map((d) => d._id);
    await t.db.collection('orders').updateMany({ _id: { $in: ids } }, { $set: { clientName: 'same instant', updatedAt: shared } });
    const first = await runCli(['migrate', 'orders', '--incremental', '--batch-size', '100', '--max-duration', '1ms', '--json'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ stoppedByMaxDuration: true });
    const second = await runCli(['migrate', 'orders', '--incremental', '--batch-size', '100', '--json'], env);
    expect(second.code, second.stderr).toBe(0);
    const n = await t.pg.query(`SELECT count(*)::int AS n FROM orders WHERE client_name = 'same instant'`);
    expect(n.rows[0]).toEqual({ n: 1000 });
    await expectEqual(t);
    // 1,000 updates and three CLI runs: minutes on FerretDB on a loaded machine (it passed alone in 40 s and hit 120 s beside other suites).
  }, 300_000);

  it('picks up documents inserted late with an older ObjectId (by updatedAt, and by --detect-deletes without it)', async () => {
    const ws = (await t.db.collection('workspaces').findOne({}))?._id as ObjectId;
    const old = ObjectId.createFromTime(Math.floor(Date.UTC(2019, 0, 1) / 1000));
    const older = ObjectId.createFromTime(Math.floor(Date.UTC(2018, 0, 1) / 1000));
    await t.db.collection('orders').insertMany([
      { _id: old, workspaceId: ws, clientName: 'late, with updatedAt', status: 'pending', items: [], createdAt: new Date(), updatedAt: new Date() },
      { _id: older, workspaceId: ws, clientName: 'late, no updatedAt', status: 'pending', items: [], createdAt: new Date() },
    ]);
    const r = await runCli(['migrate', 'orders', '--incremental'], env);
    expect(r.code, r.stderr).toBe(0);
    const found = await t.pg.query(`SELECT client_name FROM orders WHERE id = ANY($1::uuid[]) ORDER BY 1`, [[objectIdToUuid(old), objectIdToUuid(older)]]);
    expect(found.rows).toEqual([{ client_name: 'late, with updatedAt' }]);
    const r2 = await runCli(['migrate', 'orders', '--incremental', '--detect-deletes'], env);
    expect(r2.code, r2.stderr).toBe(0);
    const found2 = await t.pg.query(`SELECT client_name FROM orders WHERE id = ANY($1::uuid[]) ORDER BY 1`, [[objectIdToUuid(old), objectIdToUuid(older)]]);
    expect(found2.rows).toEqual([{ client_name: 'late, no updatedAt' }, { client_name: 'late, with updatedAt' }]);
  });

  it('keeps and reports a row the application changed, while syncing the rest', async () => {
    const [a, b] = await t.db.collection('orders').find({}, { sort: { _id: -1 }, limit: 2 }).toArray();
    await t.pg.query(`UPDATE orders SET notes = 'set by the application' WHERE id = $1`, [objectIdToUuid(a?._id as ObjectId)]);
    await t.db.collection('orders').updateMany({ _id: { $in: [a?._id as ObjectId, b?._id as ObjectId] } }, { $set: { status: 'confirmed', updatedAt: new Date() } });
    const r = await runCli(['migrate', 'orders', '--incremental', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const orders = JSON.parse(r.stdout).collections[0];
    expect(orders).toMatchObject({ skippedModified: 1, migrated: 1 });
    const rows = await t.pg.query(`SELECT id, notes, status::text FROM orders WHERE id = ANY($1::uuid[]) ORDER BY id`, [[objectIdToUuid(a?._id as ObjectId), objectIdToUuid(b?._id as ObjectId)]]);
    const byId = Object.fromEntries(rows.rows.map((x) => [x.id, x]));
    expect(byId[objectIdToUuid(a?._id as ObjectId)]).toMatchObject({ notes: 'set by the application', status: 'pending' });
    expect(byId[objectIdToUuid(b?._id as ObjectId)]).toMatchObject({ status: 'confirmed' });
    const conflicts = await t.pg.query(`SELECT kind FROM hybrid_migrate.conflicts WHERE uuid = $1`, [objectIdToUuid(a?._id as ObjectId)]);
    expect(conflicts.rows).toEqual([{ kind: 'modified-by-application' }]);
  });

  it('exits 5 at once when another run holds the collection', async () => {
    // The holder has orders to write, and this test keeps it from writing them (a table lock
    // that lets reads through), so it is still holding the collection when the second run
    // starts, however fast or slow the machine is.
    const ws = (await t.db.collection('workspaces').findOne({}))?._id as ObjectId;
    await insertSimpleOrders(t.db, 50, { workspaceId: ws });
    const blocker = await t.pg.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE');
      const holder = startCli(['migrate', 'orders', '--incremental', '--batch-size', '10', '--verbose'], env);
      await new Promise<void>((resolve) => holder.child.stderr?.on('data', (d: Buffer) => d.toString().includes('collection started') && resolve()));
      // Against a run that loads the same configuration and schema and exits 3, launched with it:
      // only the waiting is measured, not how long starting Node takes on a loaded machine.
      const [baseline, second] = await Promise.all([runCli(['migrate', 'no_such_collection'], env), runCli(['migrate', 'orders', '--incremental'], env)]);
      expect(second.code, second.stderr).toBe(5);
      expect(second.stderr).toContain('orders');
      expect(baseline.code).toBe(3);
      expect(second.ms - baseline.ms).toBeLessThan(5000);
      expect(holder.child.exitCode).toBeNull(); // the lock was really held, by a live run
      await blocker.query('COMMIT');
      expect((await holder.done).code).toBe(0);
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
    }
  });
});

describe('migrate --incremental after concurrent writers', () => {
  it('makes PostgreSQL equal to MongoDB in one run, inserts, updates and deletes included', async () => {
    const db = await createTestDatabases();
    try {
      const ws = await insertSimpleOrders(db.db, 1500);
      const e = { MONGO_URI: mongoUriFor(db.mongoUri, db.mongoDbName), DATABASE_URL: db.databaseUrl };
      const migration = startCli(['migrate', '--skip-missing-collections', '--batch-size', '50', '--concurrency', '2'], e);
      // Writers: insert, update and delete while the initial load runs.
      let running = true;
      const done = migration.done.finally(() => (running = false));
      let round = 0;
      while (running && round < 200) {
        round++;
        await db.db.collection('orders').insertOne({ workspaceId: ws, clientName: `new ${round}`, status: 'pending', items: [{ name: 'x', quantity: 1, unitPrice: 1 }], createdAt: new Date(), updatedAt: new Date() });
        const victim = await db.db.collection('orders').findOne({}, { skip: (round * 37) % 1000 });
        await db.db.collection('orders').updateOne({ _id: victim?._id }, { $set: { clientName: `updated ${round}`, updatedAt: new Date(), items: [{ name: 'y', quantity: 2, unitPrice: 2 }, { name: 'z', quantity: 1, unitPrice: 3 }] } });
        if (round % 3 === 0) {
          const gone = await db.db.collection('orders').findOne({}, { skip: (round * 53) % 900 });
          await db.db.collection('orders').deleteOne({ _id: gone?._id });
        }
      }
      const r = await done;
      expect(r.code, r.stderr).toBe(0);
      expect(round).toBeGreaterThan(5); // the writers really overlapped the load
      const sync = await runCli(['migrate', '--skip-missing-collections', '--incremental', '--detect-deletes', '--json'], e);
      expect(sync.code, sync.stderr).toBe(0);
      await expectEqual(db);
      const items = await db.pg.query(`SELECT count(*)::int AS n FROM order_items`);
      let expected = 0;
      for await (const d of db.db.collection('orders').find({}, { projection: { items: 1 } })) expected += (d.items as unknown[]).length;
      expect(items.rows[0]).toEqual({ n: expected });
      await writesNothing(db, async () => {
        const again = await runCli(['migrate', '--skip-missing-collections', '--incremental', '--detect-deletes', '--json'], e);
        expect(again.code, again.stderr).toBe(0);
      });
    } finally {
      await db.drop();
    }
  });
});

describe('migrate --incremental --detect-deletes, id by id', () => {
  it('finds deletes at the ends and page boundaries of the ordered id pass, and of string and integer _ids', async () => {
    const db = await createTestDatabases();
    try {
      const e = { MONGO_URI: mongoUriFor(db.mongoUri, db.mongoDbName), DATABASE_URL: db.databaseUrl };
      const ws = await insertSimpleOrders(db.db, 12_000);
      const other = (id: unknown, name: string) => ({ _id: id, workspaceId: ws, clientName: name, status: 'pending', items: [], createdAt: new Date() });
      await db.db.collection('orders').insertMany([other('legacy-a', 'string a'), other('legacy-b', 'string b'), other(42, 'integer 42'), other(43, 'integer 43')] as Document[]);
      // Date _ids sort after ObjectIds: a full page of the ordered pass ends with them, then a last page.
      const dated = Array.from({ length: 3000 }, (_, k) => other(new Date(Date.UTC(2022, 0, 1) + k * 1000), 'dated'));
      await db.db.collection('orders').insertMany(dated as Document[]);
      expect((await runCli(['migrate', '--skip-missing-collections'], e)).code).toBe(0);
      const ids = (await db.db.collection('orders').find({ _id: { $type: 'objectId' } }, { projection: { _id: 1 }, sort: { _id: 1 } }).toArray()).map((d) => d._id as ObjectId);
      // The first and last ObjectIds, both sides of the 5,000-id page boundaries, a string and an integer;
      // every dated document stays.
      const gone: unknown[] = [ids[0], ids[4999], ids[5000], ids[9999], ids[10_000], ids[ids.length - 1], 'legacy-b', 42];
      await db.db.collection('orders').deleteMany({ _id: { $in: gone } } as Document);
      const r = await runCli(['migrate', 'orders', '--incremental', '--detect-deletes', '--json'], e);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).collections[0]).toMatchObject({ deletedInSource: gone.length });
      const sourceKeys = new Set<string>();
      for await (const d of db.db.collection('orders').find({ _id: { $not: { $type: 'date' } } }, { projection: { _id: 1 } })) {
        sourceKeys.add(d._id instanceof ObjectId ? `oid:${d._id.toHexString()}` : typeof d._id === 'string' ? `str:${d._id}` : `int:${String(d._id)}`);
      }
      const mapped = await db.pg.query<{ source_key: string }>(`SELECT source_key FROM hybrid_migrate.id_map WHERE collection = 'orders' AND source_key ~ '^(oid|str|int):'`);
      expect(new Set(mapped.rows.map((m) => m.source_key))).toEqual(sourceKeys);
      const rows = await db.pg.query<{ n: number; dated: number }>(`SELECT count(*)::int AS n, count(*) FILTER (WHERE client_name = 'dated')::int AS dated FROM orders`);
      expect(rows.rows[0]).toEqual({ n: 12_000 + 4 + 3000 - gone.length, dated: 3000 });
    } finally {
      await db.drop();
    }
  });
});
