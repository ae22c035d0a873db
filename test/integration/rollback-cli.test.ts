/**
 * The rollback command's contract on real servers: the lock it shares with migrate (exit 5),
 * `--run` limited to one run, a parent kept while migrated children that stay reference it,
 * kill -9 then rerun reaching the same end state, `--force`, a foreign-key cycle
 * (workspace.owner ↔ user.workspaceId) rolled back whole, and a fresh migration afterwards.
 */
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli, startCli, type CliEnv } from '../support/cli.js';
import { runMigrate } from '../support/migration.js';
import { insertSimpleOrders } from '../support/simple-orders.js';
import { objectIdToUuid } from '../../src/core/ids.js';
import { acquireCollectionLocks } from '../../src/state/collection-lock.js';

const t = useTestDatabases();
const DOCS = 2000;
const users = [new ObjectId(), new ObjectId(), new ObjectId()];
let ws: ObjectId;
let env: CliEnv;
let ordersRun: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const r = await t.pg.query<{ n: number }>(sql, params);
  return r.rows[0]?.n ?? -1;
}

const mapped = (collection: string) => count(`SELECT count(*)::int AS n FROM hybrid_migrate.id_map WHERE collection = $1`, [collection]);

function collection(out: { collections: { name: string }[] }, name: string): Record<string, unknown> {
  const c = out.collections.find((x) => x.name === name);
  if (!c) throw new Error(`no ${name} in ${JSON.stringify(out)}`);
  return c as Record<string, unknown>;
}

beforeAll(async () => {
  ws = await insertSimpleOrders(t.db, DOCS);
  await t.db.collection('users').insertMany(users.map((_id, i) => ({ _id, workspaceId: ws, email: `user${i}@shop.test`, name: `User ${i}`, role: 'admin', createdAt: new Date('2020-01-01T00:00:00Z') })));
  await t.db.collection('workspaces').updateOne({ _id: ws }, { $set: { owner: users[0] } });
  const first = await runMigrate(t.db, t.pg, { collections: ['workspaces', 'users'] });
  expect(first.collections.map((c) => c.migrated)).toEqual([1, 3]);
  const orders = await runMigrate(t.db, t.pg, { collections: ['orders'], batchSize: 500 });
  expect(orders.collections[0]).toMatchObject({ migrated: DOCS });
  ordersRun = orders.runId;
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
}, 180_000);

describe('hybrid-migrate rollback', () => {
  it('exits 5 while a migrate holds the collection lock, and deletes nothing', async () => {
    const locks = await acquireCollectionLocks(t.pg, ['orders']);
    try {
      const r = await runCli(['rollback', 'orders'], env);
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toMatch(/Collection "orders" is locked by/);
    } finally {
      await locks.release();
    }
    expect(await mapped('orders')).toBe(DOCS);
  });

  it('refuses an unknown --run (exit 2)', async () => {
    const r = await runCli(['rollback', '--run', '00000000-0000-4000-8000-000000000000'], env);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/No run with id/);
  });

  it('keeps a parent that migrated rows of a collection not rolled back still reference, and never clears their reference', async () => {
    const wsUuid = objectIdToUuid(ws);
    const before = await t.pg.query(`SELECT md5(to_jsonb(w)::text) AS h FROM workspaces w WHERE id = $1`, [wsUuid]);
    const dry = await runCli(['rollback', 'workspaces', 'users', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(1);
    expect(dry.stdout).toContain('Rollback dry run (nothing written): rows of every run');
    expect(dry.stdout).toContain('workspaces: 1 referenced by migrated rows that stay of public.orders (workspace_id)');
    expect(dry.stdout).toMatch(/Would delete \(first ones\):\n  users str:|Would delete \(first ones\):\n  users oid:/);
    const r = await runCli(['--json', 'rollback', 'workspaces', 'users'], env);
    expect(r.code, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(collection(out, 'workspaces')).toMatchObject({ deleted: 0, blocked: 1, blockedReasons: { 'referenced by migrated rows that stay of public.orders (workspace_id)': 1 } });
    // The owner stays with its workspace; the two other users are referenced by nothing and go.
    expect(collection(out, 'users')).toMatchObject({ deleted: 2, blocked: 1, referencesCleared: 0 });
    expect((collection(out, 'users').samples as { blocked: { uuid: string }[] }).blocked[0]?.uuid).toBe(objectIdToUuid(users[0] as ObjectId));
    const after = await t.pg.query(`SELECT md5(to_jsonb(w)::text) AS h FROM workspaces w WHERE id = $1`, [wsUuid]);
    expect(after.rows).toEqual(before.rows);
    expect(await mapped('orders')).toBe(DOCS);
  });

  it('--run ID removes only the rows that run wrote', async () => {
    const r = await runCli(['--json', 'rollback', '--run', ordersRun], env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.runId).toBe(ordersRun);
    expect(collection(out, 'orders')).toMatchObject({ deleted: DOCS, skippedModified: 0, blocked: 0, status: 'rolled-back' });
    expect(collection(out, 'workspaces')).toMatchObject({ inScope: 0, deleted: 0 });
    expect(await mapped('orders')).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM orders`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM order_items`)).toBe(0);
    expect(await mapped('workspaces')).toBe(1);
    expect(await mapped('users')).toBe(1);
  });

  it('killed with SIGKILL part-way, then rerun, reaches the same end state; a further rollback deletes nothing', async () => {
    const again = await runMigrate(t.db, t.pg, { collections: ['orders'], batchSize: 500 });
    expect(again.collections[0]).toMatchObject({ migrated: DOCS });
    const edited = await t.pg.query<{ id: string }>(`UPDATE orders SET notes = 'app edit' WHERE id IN (SELECT id FROM orders ORDER BY id DESC LIMIT 20) RETURNING id::text`);
    const { child, done } = startCli(['rollback', 'orders', '--batch-size', '10'], env);
    let remaining = DOCS;
    for (let i = 0; i < 1000 && remaining > DOCS - 300; i++) {
      await sleep(20);
      remaining = await mapped('orders');
    }
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');
    const atKill = await mapped('orders');
    console.info(`rollback killed with ${atKill}/${DOCS} orders left`);
    // Killed part-way: some batches committed, most not.
    expect(atKill).toBeLessThan(DOCS);
    expect(atKill).toBeGreaterThan(100);
    // Batches are whole: every registry entry still has its row and its children, every deleted row took its children.
    expect(await count(`SELECT count(*)::int AS n FROM orders`)).toBe(atKill);
    expect(await count(`SELECT count(*)::int AS n FROM order_items`)).toBe(atKill);
    expect(await count(`SELECT count(*)::int AS n FROM order_status_history`)).toBe(atKill);
    expect(await count(`SELECT count(*)::int AS n FROM hybrid_migrate.checkpoints WHERE collection = 'orders'`)).toBe(0);

    const rerun = await runCli(['--json', 'rollback', 'orders', '--batch-size', '10'], env);
    expect(rerun.code, rerun.stderr).toBe(1);
    expect(collection(JSON.parse(rerun.stdout), 'orders')).toMatchObject({ deleted: atKill - 20, skippedModified: 20, blocked: 0 });
    const kept = edited.rows.map((r) => r.id).sort();
    const left = await t.pg.query<{ id: string }>(`SELECT id::text FROM orders ORDER BY id`);
    expect(left.rows.map((r) => r.id)).toEqual(kept);
    const registry = await t.pg.query<{ uuid: string }>(`SELECT uuid::text FROM hybrid_migrate.id_map WHERE collection = 'orders' ORDER BY uuid`);
    expect(registry.rows.map((r) => r.uuid)).toEqual(kept);
    expect(await count(`SELECT count(*)::int AS n FROM order_items`)).toBe(20);

    const third = await runCli(['--json', 'rollback', 'orders'], env);
    expect(third.code).toBe(1);
    expect(collection(JSON.parse(third.stdout), 'orders')).toMatchObject({ deleted: 0, skippedModified: 20 });
    const runs = await t.pg.query<{ status: string }>(`SELECT status FROM hybrid_migrate.runs WHERE command = 'rollback' ORDER BY started_at`);
    // The killed one is marked abandoned by the next run that took the lock (never left 'running' forever).
    expect(runs.rows.map((r) => r.status)).not.toContain('running');
    expect(runs.rows.map((r) => r.status)).toContain('abandoned');
    expect(runs.rows.at(-1)?.status).toBe('done');
  }, 180_000);

  it('--force also deletes the rows the application changed', async () => {
    const r = await runCli(['--json', 'rollback', 'orders', '--force'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(collection(JSON.parse(r.stdout), 'orders')).toMatchObject({ deleted: 20, skippedModified: 0, status: 'rolled-back' });
    expect(await count(`SELECT count(*)::int AS n FROM orders`)).toBe(0);
  });

  it('rolls back a foreign-key cycle whole (the owner reference is cleared first), and everything migrates again fresh', async () => {
    const r = await runCli(['--json', 'rollback'], env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(collection(out, 'users')).toMatchObject({ deleted: 1, blocked: 0, referencesCleared: 1 });
    expect(collection(out, 'workspaces')).toMatchObject({ deleted: 1, blocked: 0 });
    expect(await count(`SELECT count(*)::int AS n FROM hybrid_migrate.id_map`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM hybrid_migrate.checkpoints`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM workspaces`)).toBe(0);

    const m = await runCli(['--json', 'migrate', 'workspaces', 'users', 'orders'], env);
    expect(m.code, m.stderr).toBe(0);
    const migrated = JSON.parse(m.stdout);
    expect(migrated.collections.map((c: { name: string; migrated: number }) => [c.name, c.migrated])).toEqual([
      ['workspaces', 1],
      ['users', 3],
      ['orders', DOCS],
    ]);
    const owner = await t.pg.query(`SELECT owner_id::text AS o FROM workspaces`);
    expect(owner.rows).toEqual([{ o: objectIdToUuid(users[0] as ObjectId) }]);
  }, 180_000);
});
