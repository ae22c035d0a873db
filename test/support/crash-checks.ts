/**
 * What every crash test checks after the rerun, in one place: PostgreSQL holds exactly the
 * source's orders, once each, under the UUIDs their _ids determine, the registry is one to
 * one, and `verify` (the tool's own full comparison) finds nothing missing, extra or different.
 */
import { expect } from 'vitest';
import type { Db, ObjectId } from 'mongodb';
import type pg from 'pg';
import { createTestDatabases, type TestDatabases } from './databases.js';
import { mongoUriFor, runCli, type CliEnv } from './cli.js';
import { insertSimpleOrders } from './simple-orders.js';

/** Runs `work` on fresh databases holding a workspace and `n` simple orders; drops them after. */
export async function withOrders<T>(n: number, work: (db: TestDatabases & { drop(): Promise<void> }, env: CliEnv) => Promise<T>): Promise<T> {
  const db = await createTestDatabases();
  try {
    await insertSimpleOrders(db.db, n);
    return await work(db, { MONGO_URI: mongoUriFor(db.mongoUri, db.mongoDbName), DATABASE_URL: db.databaseUrl });
  } finally {
    await db.drop();
  }
}

/**
 * Exactly the source's orders, once each, under the UUIDs their _ids determine, and verify
 * agrees (counting apart the documents the application changed or deleted, which `app` gives).
 * Returns the rows checked.
 */
export async function expectExact(db: { db: Db; pg: pg.Pool }, env: CliEnv, app: { changedByApplication: number; deletedByApplication: number } = { changedByApplication: 0, deletedByApplication: 0 }): Promise<number> {
  const source = await db.db.collection('orders').countDocuments();
  const rows = String(source - app.deletedByApplication);
  const r = await db.pg.query<Record<string, string>>(`
    SELECT (SELECT count(*) FROM orders) AS orders,
           (SELECT count(*) FROM order_items) AS items,
           (SELECT count(*) FROM hybrid_migrate.id_map WHERE collection = 'orders') AS mapped,
           (SELECT count(DISTINCT uuid) FROM hybrid_migrate.id_map WHERE collection = 'orders') AS distinct_uuids,
           (SELECT count(*) FROM orders o LEFT JOIN hybrid_migrate.id_map m ON m.uuid = o.id WHERE m.uuid IS NULL) AS unmapped,
           (SELECT count(*) FROM hybrid_migrate.rejects) AS rejects`);
  expect(r.rows[0]).toEqual({ orders: rows, items: rows, mapped: String(source), distinct_uuids: String(source), unmapped: '0', rejects: '0' });
  const v = await runCli(['verify', 'orders', '--json', '--no-report'], env);
  expect(v.code, v.stderr).toBe(0);
  expect(JSON.parse(v.stdout).collections[0]).toMatchObject({ missing: 0, extra: 0, mismatched: 0, ...app });
  return source;
}

/** Deterministic PRNG (mulberry32) so a failing sequence of kill points can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` simple orders in this file's databases, migrated once through the CLI: the environment and the orders' `_id`s in order. */
export async function migrateSimpleOrders(t: TestDatabases, n: number): Promise<{ env: CliEnv; ids: ObjectId[] }> {
  const env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
  await insertSimpleOrders(t.db, n);
  const ids = (await t.db.collection('orders').find({}, { projection: { _id: 1 }, sort: { _id: 1 } }).toArray()).map((d) => d._id as ObjectId);
  const r = await runCli(['migrate', '--skip-missing-collections'], env);
  expect(r.code, r.stderr).toBe(0);
  return { env, ids };
}
