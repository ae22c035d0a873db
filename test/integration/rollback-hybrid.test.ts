/**
 * Rollback in hybrid mode: the application writes to the same tables while the migration
 * runs. The rollback removes every row the migration wrote and nothing else: the
 * application's 5,000 rows stay byte for byte, the 500 migrated rows it edited are kept
 * and reported, migrated rows that application rows reference are kept and reported as
 * blocked, and the server never sees a TRUNCATE or a DROP (its own statement log and a
 * guard installed in the database say so). Afterwards the collection migrates again.
 */
import { ObjectId } from 'mongodb';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabases, useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli, startCli, type CliEnv } from '../support/cli.js';
import { runMigrate } from '../support/migration.js';
import { insertSimpleOrders } from '../support/simple-orders.js';
import { destructiveStatements, installDestructiveStatementGuard, startStatementLog, type StatementLog } from '../support/statement-log.js';
import { childUuid, nameUuid, objectIdToUuid } from '../../src/core/ids.js';
import { ensureStateSchema } from '../../src/state/schema.js';

const t = useTestDatabases();
const DOCS = 3000;
const APP_ROWS = 5000;
const APP_EDITS = 500;
const APP_WS = '0190f5e2-7b1a-7000-8000-000000000001';
let ws: ObjectId;
let env: CliEnv;
let log: StatementLog;

const dbName = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** md5(to_jsonb(row)) of every listed row, per table, ordered: the rows byte for byte. */
async function hashes(table: string, ids: readonly string[]): Promise<string[]> {
  const r = await t.pg.query<{ h: string }>(`SELECT id::text || ':' || md5(to_jsonb(x)::text) AS h FROM ${table} x WHERE id = ANY($1::uuid[]) ORDER BY id`, [ids]);
  return r.rows.map((row) => row.h);
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const r = await t.pg.query<{ n: number }>(sql, params);
  return r.rows[0]?.n ?? -1;
}

/** Everything a dry run must leave alone: every table's content and the tool's state. */
async function databaseFingerprint(): Promise<string> {
  const tables = ['workspaces', 'orders', 'order_items', 'order_status_history', 'transactions', 'hybrid_migrate.id_map', 'hybrid_migrate.checkpoints', 'hybrid_migrate.rejects', 'hybrid_migrate.runs', 'hybrid_migrate.deferred_refs'];
  const parts: string[] = [];
  for (const table of tables) {
    const r = await t.pg.query<{ h: string | null; n: number }>(`SELECT md5(string_agg(md5(to_jsonb(x)::text), ',' ORDER BY md5(to_jsonb(x)::text))) AS h, count(*)::int AS n FROM ${table} x`);
    parts.push(`${table}:${r.rows[0]?.n}:${r.rows[0]?.h}`);
  }
  return parts.join('\n');
}

beforeAll(async () => {
  ws = await insertSimpleOrders(t.db, DOCS);
  await runMigrate(t.db, t.pg, { collections: ['workspaces'] });
  await t.pg.query(`INSERT INTO workspaces (id, name, slug, currency) VALUES ($1, 'App shop', 'app-shop', 'EUR')`, [APP_WS]);
  await ensureStateSchema(t.pg);
  await installDestructiveStatementGuard(t.pg);
  log = await startStatementLog(t.pg, dbName(t.databaseUrl));
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
}, 180_000);

describe('rollback while the application writes to the same tables', () => {
  const appOrders: string[] = [];
  const edited: string[] = [];
  const appItems: string[] = [];
  const appTransactions: string[] = [];
  const blockedOrders: string[] = [];
  let appBefore: string[] = [];
  let editedBefore: string[] = [];

  it('a migration runs while the application inserts 5,000 rows and edits 500 migrated ones', async () => {
    const migration = startCli(['migrate', 'orders', '--batch-size', '25', '--concurrency', '1', '--json'], env);
    let running = true;
    void migration.done.then(() => (running = false));
    let insertsWhileRunning = 0;
    let editsWhileRunning = 0;
    const wsUuid = objectIdToUuid(ws);
    while (appOrders.length < APP_ROWS || edited.length < APP_EDITS) {
      if (appOrders.length < APP_ROWS) {
        const r = await t.pg.query<{ id: string }>(
          `INSERT INTO orders (id, workspace_id, client_name, status, notes, updated_at)
           SELECT gen_random_uuid(), CASE WHEN g % 2 = 0 THEN $1::uuid ELSE $2::uuid END, 'app order ' || g, 'pending', 'from the app', now()
             FROM generate_series(1, 100) g RETURNING id::text`,
          [APP_WS, wsUuid],
        );
        appOrders.push(...r.rows.map((x) => x.id));
        if (running) insertsWhileRunning += r.rows.length;
      }
      if (edited.length < APP_EDITS) {
        const r = await t.pg.query<{ id: string }>(
          `UPDATE orders o SET notes = 'edited by the app', updated_at = now()
            WHERE o.id IN (SELECT m.uuid FROM hybrid_migrate.id_map m JOIN orders x ON x.id = m.uuid
                            WHERE m.collection = 'orders' AND x.notes IS NULL ORDER BY m.migrated_at DESC, m.uuid LIMIT $1)
          RETURNING id::text`,
          [Math.min(20, APP_EDITS - edited.length)],
        );
        edited.push(...r.rows.map((x) => x.id));
        if (running) editsWhileRunning += r.rows.length;
      }
      await sleep(running ? 15 : 0);
    }
    const migrated = await migration.done;
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(JSON.parse(migrated.stdout).collections[0]).toMatchObject({ name: 'orders', read: DOCS, migrated: DOCS, rejected: 0 });
    // The application really wrote while the migration ran (not only before or after it).
    expect(insertsWhileRunning).toBeGreaterThan(0);
    console.info(`application wrote ${insertsWhileRunning}/${APP_ROWS} rows and ${editsWhileRunning}/${APP_EDITS} edits while the migration ran`);

    // The application also references three unedited migrated orders: an item of its own (a v4 id),
    // an item whose v5 id is not the migration's childUuid, and a transaction.
    const picks = await t.pg.query<{ id: string }>(
      `SELECT m.uuid::text AS id FROM hybrid_migrate.id_map m JOIN orders o ON o.id = m.uuid WHERE m.collection = 'orders' AND o.notes IS NULL ORDER BY m.uuid LIMIT 3`,
    );
    blockedOrders.push(...picks.rows.map((x) => x.id));
    const [a, b, c] = blockedOrders as [string, string, string];
    const fakeV5 = nameUuid('not-the-migration', b);
    expect(fakeV5[14]).toBe('5');
    expect(fakeV5).not.toBe(childUuid(b, 'OrderItem', 7));
    const items = await t.pg.query<{ id: string }>(
      `INSERT INTO order_items (id, order_id, position, name, quantity) VALUES (gen_random_uuid(), $1, 5, 'added by the app', 1), ($2, $3, 7, 'v5 id, not ours', 1) RETURNING id::text`,
      [a, fakeV5, b],
    );
    appItems.push(...items.rows.map((x) => x.id));
    const tx = await t.pg.query<{ id: string }>(`INSERT INTO transactions (id, workspace_id, type, amount, date, order_id) VALUES (gen_random_uuid(), $1, 'income', 10, now(), $2) RETURNING id::text`, [APP_WS, c]);
    appTransactions.push(...tx.rows.map((x) => x.id));

    appBefore = [...(await hashes('orders', appOrders)), ...(await hashes('order_items', appItems)), ...(await hashes('transactions', appTransactions)), ...(await hashes('workspaces', [APP_WS]))];
    expect(appBefore).toHaveLength(APP_ROWS + 2 + 1 + 1);
    editedBefore = await hashes('orders', edited);
    expect(editedBefore).toHaveLength(APP_EDITS);
  }, 300_000);

  it('--dry-run lists what would be deleted, skipped and kept, and writes nothing', async () => {
    const before = await databaseFingerprint();
    const r = await runCli(['--json', 'rollback', '--dry-run'], env);
    expect(r.code, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.dryRun).toBe(true);
    const orders = out.collections.find((c: { name: string }) => c.name === 'orders');
    expect(orders).toMatchObject({ deleted: DOCS - APP_EDITS - 3, skippedModified: APP_EDITS, blocked: 3 });
    expect(orders.childRowsDeleted).toEqual({ 'public.order_items': DOCS - APP_EDITS - 3, 'public.order_status_history': DOCS - APP_EDITS - 3 });
    expect(orders.samples.deleted).toHaveLength(5);
    expect(orders.samples.skippedModified[0]).toMatchObject({ sourceKey: expect.stringMatching(/^oid:/), uuid: expect.any(String) });
    expect(out.collections.find((c: { name: string }) => c.name === 'workspaces')).toMatchObject({ deleted: 0, blocked: 1 });
    expect(await databaseFingerprint()).toEqual(before);
  }, 120_000);

  it('deletes every other migrated row, keeps and reports the edited and referenced ones, leaves the application rows byte-identical', async () => {
    const r = await runCli(['--json', 'rollback', '--batch-size', '300'], env);
    expect(r.code, r.stderr).toBe(1); // rows were kept: reported, exit 1
    const out = JSON.parse(r.stdout);
    const orders = out.collections.find((c: { name: string }) => c.name === 'orders');
    expect(orders).toMatchObject({ deleted: DOCS - APP_EDITS - 3, skippedModified: APP_EDITS, blocked: 3, status: 'partial' });
    expect(orders.childRowsDeleted).toEqual({ 'public.order_items': DOCS - APP_EDITS - 3, 'public.order_status_history': DOCS - APP_EDITS - 3 });
    expect(Object.keys(orders.blockedReasons).sort()).toEqual([
      'has application child rows in public.order_items',
      'referenced by application rows of public.transactions (order_id)',
    ]);
    expect(orders.samples.blocked.map((s: { uuid: string }) => s.uuid).sort()).toEqual([...blockedOrders].sort());
    const workspaces = out.collections.find((c: { name: string }) => c.name === 'workspaces');
    expect(workspaces).toMatchObject({ deleted: 0, blocked: 1, blockedReasons: { 'referenced by application rows of public.orders (workspace_id)': 1 } });

    // The application's rows, byte for byte; the edited rows as the application left them.
    const appAfter = [...(await hashes('orders', appOrders)), ...(await hashes('order_items', appItems)), ...(await hashes('transactions', appTransactions)), ...(await hashes('workspaces', [APP_WS]))];
    expect(appAfter).toEqual(appBefore);
    expect(await hashes('orders', edited)).toEqual(editedBefore);
    // Every other migrated row is gone, children included; the kept ones keep their registry entry and children.
    const kept = [...edited, ...blockedOrders];
    expect(await count(`SELECT count(*)::int AS n FROM orders WHERE NOT (id = ANY($1::uuid[]))`, [kept])).toBe(APP_ROWS);
    expect(await count(`SELECT count(*)::int AS n FROM hybrid_migrate.id_map WHERE collection = 'orders'`)).toBe(kept.length);
    expect(await count(`SELECT count(*)::int AS n FROM hybrid_migrate.id_map WHERE collection = 'orders' AND uuid = ANY($1::uuid[])`, [kept])).toBe(kept.length);
    expect(await count(`SELECT count(*)::int AS n FROM order_items WHERE NOT (id = ANY($1::uuid[]))`, [appItems])).toBe(kept.length);
    expect(await count(`SELECT count(*)::int AS n FROM order_items WHERE NOT (order_id = ANY($1::uuid[]))`, [kept])).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM order_status_history WHERE NOT (order_id = ANY($1::uuid[]))`, [kept])).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM hybrid_migrate.checkpoints WHERE collection = 'orders'`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM hybrid_migrate.runs WHERE command = 'rollback' AND status = 'done'`)).toBe(1);
  }, 180_000);

  it('a second rollback deletes nothing', async () => {
    const r = await runCli(['--json', 'rollback'], env);
    expect(r.code, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout);
    for (const c of out.collections) expect(c.deleted, c.name).toBe(0);
    expect(out.collections.find((c: { name: string }) => c.name === 'orders')).toMatchObject({ skippedModified: APP_EDITS, blocked: 3 });
  }, 120_000);

  it('the server never saw a TRUNCATE or a DROP: its statement log and the guard in the database', async (ctx) => {
    // The guard (BEFORE TRUNCATE triggers, sql_drop event trigger) would have made the rollbacks fail (exit 6): they exited 1.
    const guard = await count(`SELECT count(*)::int AS n FROM pg_event_trigger WHERE evtname = 'hm_guard_drop' AND evtenabled = 'O'`);
    expect(guard).toBe(1);
    if (!log.file) ctx.skip(true, 'the PostgreSQL server log is not readable here: only the in-database guard witnessed');
    const statements = log.read();
    // The log is live for this database: it holds the rollback's own deletes.
    expect(statements.some((s) => /DELETE FROM "public"\."orders"/.test(s))).toBe(true);
    expect(statements.some((s) => /DELETE FROM "public"\."order_items"/.test(s))).toBe(true);
    expect(destructiveStatements(statements)).toEqual([]);
  });

  it('the collection migrates again afterwards, and the application rows are still untouched', async () => {
    const r = await runCli(['--json', 'migrate', 'orders', '--batch-size', '500'], env);
    expect(r.code, r.stderr).toBe(0);
    const orders = JSON.parse(r.stdout).collections[0];
    // The kept rows are still the migration's (id_map) and their documents did not change: left as they are.
    expect(orders).toMatchObject({ name: 'orders', read: DOCS, rejected: 0 });
    expect(orders.migrated).toBe(DOCS - APP_EDITS - 3);
    expect(await count(`SELECT count(*)::int AS n FROM hybrid_migrate.id_map WHERE collection = 'orders'`)).toBe(DOCS);
    expect(await count(`SELECT count(*)::int AS n FROM orders o JOIN hybrid_migrate.id_map m ON m.uuid = o.id`)).toBe(DOCS);
    expect(await count(`SELECT count(*)::int AS n FROM order_items i JOIN hybrid_migrate.id_map m ON m.uuid = i.order_id`)).toBe(DOCS + 2);
    const appAfter = [...(await hashes('orders', appOrders)), ...(await hashes('order_items', appItems)), ...(await hashes('transactions', appTransactions)), ...(await hashes('workspaces', [APP_WS]))];
    expect(appAfter).toEqual(appBefore);
    expect(await hashes('orders', edited)).toEqual(editedBefore);
  }, 180_000);
});

describe('the TRUNCATE/DROP witnesses can fail', () => {
  it('catch a TRUNCATE and a DROP issued on purpose', async () => {
    const side = await createTestDatabases();
    try {
      await ensureStateSchema(side.pg);
      await installDestructiveStatementGuard(side.pg);
      const sideLog = await startStatementLog(side.pg, dbName(side.databaseUrl));
      const client = new pg.Client({ connectionString: side.databaseUrl }); // log_statement applies to sessions opened after it was set
      await client.connect();
      try {
        await expect(client.query('TRUNCATE order_items')).rejects.toThrow(/hm_guard: TRUNCATE of public\.order_items refused/);
        await expect(client.query('TRUNCATE orders CASCADE')).rejects.toThrow(/hm_guard: TRUNCATE/);
        await expect(client.query('TRUNCATE hybrid_migrate.id_map')).rejects.toThrow(/hm_guard: TRUNCATE/);
        await client.query('CREATE TABLE canary (id int)');
        await expect(client.query('DROP TABLE canary')).rejects.toThrow(/hm_guard: DROP TABLE public\.canary refused/);
        await client.query('CREATE TEMP TABLE scratch (id int)'); // a session's temp table is not the guard's business
      } finally {
        await client.end();
      }
      if (!sideLog.file) return;
      await sleep(200);
      expect(destructiveStatements(sideLog.read())).toEqual(['TRUNCATE order_items', 'TRUNCATE orders CASCADE', 'TRUNCATE hybrid_migrate.id_map', 'DROP TABLE canary']);
    } finally {
      await side.drop();
    }
  });
});
