/**
 * Tables the migration loads get planner statistics: migrate ANALYZEs a collection's tables
 * once it wrote to them, and verify ANALYZEs those whose statistics are missing or stale before
 * it reads rows back a batch at a time. Measured on 1M orders, verify's child-row query by
 * parent scanned the freshly loaded table per batch (0.75 s per 1,000 orders) because it had
 * never been analyzed. Autovacuum is switched off on these tables here, and only a manual
 * ANALYZE sets `last_analyze`, so nothing else can make these tests pass.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { insertSimpleOrders } from '../support/simple-orders.js';
import { analyzeStaleTables } from '../../src/target/table-stats.js';
import { loadPrismaSchema } from '../../src/schema/prisma-schema.js';

const t = useTestDatabases();
const TABLES = ['orders', 'order_items', 'order_status_history'];

async function lastAnalyzed(): Promise<Record<string, boolean>> {
  // The statistics of this session's own writes are flushed at most once a second.
  await new Promise((r) => setTimeout(r, 1100));
  const r = await t.pg.query<{ relname: string; analyzed: boolean }>(
    `SELECT relname, last_analyze IS NOT NULL AS analyzed FROM pg_stat_user_tables WHERE schemaname = 'public' AND relname = ANY($1::text[])`,
    [TABLES],
  );
  return Object.fromEntries(r.rows.map((row) => [row.relname, row.analyzed]));
}

const all = (v: boolean) => Object.fromEntries(TABLES.map((n) => [n, v]));

describe('planner statistics of the tables the migration loads', () => {
  it('migrate analyzes the tables it wrote to, and verify those whose statistics are missing', async () => {
    for (const table of TABLES) await t.pg.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
    for (const table of TABLES) await t.pg.query(`SELECT pg_stat_reset_single_table_counters($1::regclass)`, [table]);
    expect(await lastAnalyzed()).toEqual(all(false));
    await insertSimpleOrders(t.db, 300);
    const env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
    const migrate = await runCli(['migrate', 'workspaces', 'orders'], env);
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(await lastAnalyzed()).toEqual(all(true));

    // Statistics gone (as after a restore, or tables loaded by an earlier version): verify analyzes them.
    for (const table of TABLES) await t.pg.query(`SELECT pg_stat_reset_single_table_counters($1::regclass)`, [table]);
    expect(await lastAnalyzed()).toEqual(all(false));
    const verify = await runCli(['verify', 'orders', '--no-report'], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(await lastAnalyzed()).toEqual(all(true));
  }, 120_000);

  it('leaves fresh statistics alone, and gives up on a table another session holds instead of failing', async () => {
    const schema = await loadPrismaSchema('prisma/schema.prisma');
    const orders = [...schema.models.values()].find((m) => m.table === 'orders');
    expect(orders).toBeDefined();
    if (!orders) return;
    await t.pg.query('ANALYZE orders');
    expect(await analyzeStaleTables(t.pg, [orders])).toEqual([]);

    await t.pg.query(`SELECT pg_stat_reset_single_table_counters('orders'::regclass)`);
    // Like the tool's own sessions, with a lock_timeout (300 ms here).
    const impatient = new pg.Pool({ connectionString: t.databaseUrl, max: 1, options: '-c lock_timeout=300' });
    const holder = await t.pg.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');
      const analyzed = await Promise.race([
        analyzeStaleTables(impatient, [orders]),
        new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 20 s'), 20_000)),
      ]);
      expect(analyzed).toEqual([]);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
      await impatient.end();
    }
    expect(await analyzeStaleTables(t.pg, [orders])).toEqual(['public.orders']);
  }, 60_000);

  it('plan names a child table whose parent column leads no index, with the @@index to add, and changes no exit code', async () => {
    const env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
    const out = mkdtempSync(join(tmpdir(), 'hm-plan-index-'));
    // The customer's schema has @@unique([orderId, position]) on both child tables: nothing to say.
    const before = await runCli(['plan', 'orders', '--json', '--out', out], env);
    const unindexed = (stdout: string) => (JSON.parse(stdout) as { collections: { name: string; unindexedChildParents: unknown[] }[] }).collections.find((c) => c.name === 'orders')?.unindexedChildParents;
    expect(unindexed(before.stdout), before.stderr).toEqual([]);

    await t.pg.query('DROP INDEX order_status_history_order_id_position_key');
    const after = await runCli(['plan', 'orders', '--json', '--out', out], env);
    expect(after.code, after.stderr).toBe(before.code);
    expect(unindexed(after.stdout)).toEqual([{ model: 'OrderStatusHistory', table: 'order_status_history', column: 'order_id' }]);
    const text = await runCli(['plan', 'orders', '--out', out], env);
    expect(text.stdout).toContain('! order_status_history has no index starting with order_id');
    expect(text.stdout).toContain('Add @@index([orderId]) (or @@unique([orderId, position])) to model OrderStatusHistory');
  }, 120_000);
});
