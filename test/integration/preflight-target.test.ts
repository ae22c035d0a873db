/**
 * Preflight of the target (issue 17): before anything is written — the tool's own
 * hybrid_migrate schema included — the target's catalog is compared with the Prisma schema.
 * Columns that differ (numeric(12,1) for Decimal(19,4), timestamptz(0) for Timestamptz(3), a
 * shorter varchar, nullability, a missing unique key or foreign key) are all listed at once with
 * exit 3; a target without the schema names `npx prisma migrate deploy`.
 */
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { createEmptyPostgresDatabase, createTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { insertSimpleOrders } from '../support/simple-orders.js';

async function nothingWritten(databaseUrl: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const r = await pool.query<{ state: string | null }>(`SELECT to_regnamespace('hybrid_migrate')::text AS state`);
    expect(r.rows[0]?.state).toBeNull();
  } finally {
    await pool.end();
  }
}

describe('a target whose columns differ from the Prisma schema', () => {
  it('migrate (also --dry-run) and verify exit 3 listing every difference; nothing is written, not even the state schema', async () => {
    const db = await createTestDatabases();
    try {
      await insertSimpleOrders(db.db, 20);
      await db.db.collection('orders').updateMany({}, { $set: { deliveryFee: 1234.5678 } });
      await db.pg.query(`ALTER TABLE orders ALTER COLUMN delivery_fee TYPE numeric(12,1)`);
      await db.pg.query(`ALTER TABLE orders ALTER COLUMN created_at TYPE timestamptz(0)`);
      await db.pg.query(`ALTER TABLE workspaces ALTER COLUMN currency TYPE varchar(2)`);
      await db.pg.query(`ALTER TABLE order_items ALTER COLUMN quantity SET NOT NULL`);
      await db.pg.query(`ALTER TABLE order_items DROP CONSTRAINT order_items_order_id_fkey`);
      await db.pg.query(`DROP INDEX workspaces_slug_key`);
      const env = { MONGO_URI: mongoUriFor(db.mongoUri, db.mongoDbName), DATABASE_URL: db.databaseUrl };
      for (const args of [['migrate', '--skip-missing-collections'], ['migrate', '--skip-missing-collections', '--dry-run'], ['verify', '--no-report']]) {
        const r = await runCli(args, env);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(3);
        expect(r.stderr).toMatch(/does not match the Prisma schema \(6 differences\); nothing was written/);
        expect(r.stderr).toMatch(/orders\.delivery_fee: is numeric\(12,1\) in the database, the schema says numeric\(19,4\) \(Order\.deliveryFee @db\.Decimal\(19, 4\)\)/);
        expect(r.stderr).toMatch(/orders\.created_at: is timestamp\(0\) with time zone in the database, the schema says timestamp\(3\) with time zone/);
        expect(r.stderr).toMatch(/workspaces\.currency: is character varying\(2\) in the database, the schema says character varying\(3\)/);
        expect(r.stderr).toMatch(/order_items\.quantity: is NOT NULL in the database, the schema says optional/);
        expect(r.stderr).toMatch(/order_items: has no foreign key \(order_id\) → orders/);
        expect(r.stderr).toMatch(/workspaces: has no unique index on \(slug\)/);
      }
      // Only the named collections' tables are compared: orders (with its child tables) sees its four.
      const orders = await runCli(['migrate', 'orders', '--incremental'], env);
      expect(orders.code, orders.stderr).toBe(3);
      expect(orders.stderr).toMatch(/\(4 differences\)/);
      expect(orders.stderr).not.toMatch(/workspaces/);
      await nothingWritten(db.databaseUrl);
      expect((await db.pg.query('SELECT count(*)::int AS n FROM orders')).rows[0]).toEqual({ n: 0 });
      // Only the named collections' tables are compared: workspaces alone sees only its own two differences.
      const one = await runCli(['migrate', 'workspaces'], env);
      expect(one.code, one.stderr).toBe(3);
      expect(one.stderr).toMatch(/\(2 differences\)/);
      expect(one.stderr).not.toMatch(/delivery_fee/);
    } finally {
      await db.drop();
    }
  });
});

describe('a target without the schema', () => {
  it('migrate, verify and rollback exit 3 naming "npx prisma migrate deploy"; no hybrid_migrate schema, no run left running', async () => {
    const source = await createTestDatabases();
    const empty = await createEmptyPostgresDatabase();
    try {
      await insertSimpleOrders(source.db, 5);
      const env = { MONGO_URI: mongoUriFor(source.mongoUri, source.mongoDbName), DATABASE_URL: empty.databaseUrl };
      for (const args of [['migrate', '--skip-missing-collections'], ['migrate', '--skip-missing-collections', '--dry-run'], ['verify', '--no-report'], ['rollback']]) {
        const r = await runCli(args, env);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(3);
        expect(r.stderr).toMatch(/has none of the schema's \d+ tables/);
        expect(r.stderr).toMatch(/npx prisma migrate deploy/);
        expect(r.stderr).not.toMatch(/relation "[^"]+" does not exist/);
      }
      await nothingWritten(empty.databaseUrl);
    } finally {
      await empty.drop();
      await source.drop();
    }
  });
});
