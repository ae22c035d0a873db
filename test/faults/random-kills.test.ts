/**
 * Crash safety at random points, the way Kafka Connect's exactly-once tests check it: one
 * data set goes through migrate, an incremental sync (with updates, inserts and deletes) and a
 * rollback, and each of the three is killed with SIGKILL at HM_FAULT_KILLS (default 20) random
 * points of its progress before a run is let finish. After each: exact row counts, no
 * duplicate, nothing missing, the registry one to one, `verify` clean; after the rollback the
 * application's own rows are byte-identical. Before the incremental sync, the application
 * edits migrated orders (main rows, child rows) and deletes some, which MongoDB then changes
 * too: every run must leave them as the application left them, with one conflict each.
 *
 * The kill points are random in the work done, not in wall-clock time: each kill waits until
 * the run has committed past a random share of the remaining work, then a further random
 * 0–100 ms, so kills land in reading, converting, COPY, commit and checkpoint alike whatever the
 * machine's speed. HM_FAULT_SEED replays a sequence.
 */
import { ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli, startCli, type CliEnv } from '../support/cli.js';
import { expectExact, prng } from '../support/crash-checks.js';
import { insertSimpleOrders } from '../support/simple-orders.js';
import { objectIdToUuid } from '../../src/core/ids.js';

const DOCS = Number(process.env.HM_FAULT_DOCS ?? 100_000);
const KILLS = Number(process.env.HM_FAULT_KILLS ?? 20);
const SEED = Number(process.env.HM_FAULT_SEED ?? 20261124);
const random = prng(SEED);
/** Small enough batches that KILLS kills, each after at least one committed batch, fit in the work. */
const batchFor = (work: number) => String(Math.max(20, Math.floor(work / (KILLS * 8))));

/** Migrated orders the application edits (main row), edits a child row of, and deletes: this many each. */
const APP_EDITS = 10;
let appEdits: AppEdits = { parents: [], children: [], deleted: [] };
let db: TestDatabases & { drop(): Promise<void> };
let env: CliEnv;
/** Figures for the issue note: printed once at the end. */
const figures: string[] = [];

beforeAll(async () => {
  db = await createTestDatabases();
  await insertSimpleOrders(db.db, DOCS);
  env = { MONGO_URI: mongoUriFor(db.mongoUri, db.mongoDbName), DATABASE_URL: db.databaseUrl };
  expect((await runCli(['migrate', 'workspaces'], env)).code).toBe(0);
}, 600_000);

afterAll(async () => {
  process.stdout.write(`\n[faults] random kills (seed ${SEED}, ${DOCS.toLocaleString('en-US')} documents):\n${figures.map((f) => `  ${f}`).join('\n')}\n`);
  await db?.drop();
});

interface KillRun {
  kills: number;
  runs: number;
  /** The progress measure when each kill landed. */
  killedAt: number[];
}

/**
 * Starts `args` again and again, killing each run with SIGKILL once `progress()` has passed a
 * random point of the remaining work (`total`), until KILLS kills or a run that finishes by
 * itself; then one run to completion, which must exit with one of `okCodes` (0).
 */
async function killAtRandomPoints(args: readonly string[], total: number, progress: () => Promise<number>, okCodes: readonly number[] = [0]): Promise<KillRun> {
  const killedAt: number[] = [];
  let runs = 0;
  let finished = false;
  while (killedAt.length < KILLS && !finished) {
    const start = await progress();
    // A random point of what is left, spread so KILLS kills fit before the end.
    const left = Math.max(1, total - start);
    const target = start + 1 + Math.floor(random() * (left / Math.max(1, KILLS - killedAt.length)));
    const extraMs = Math.floor(random() * 100);
    const run = startCli(args, env);
    runs++;
    let exited = false;
    void run.done.then(() => (exited = true));
    while (!exited && (await progress()) < target) await new Promise((r) => setTimeout(r, 10));
    if (!exited) {
      await new Promise((r) => setTimeout(r, extraMs));
      run.child.kill('SIGKILL');
    }
    const r = await run.done;
    if (r.signal === 'SIGKILL') killedAt.push(await progress());
    else {
      expect(okCodes, r.stderr).toContain(r.code);
      finished = true;
    }
  }
  if (!finished) {
    const last = await runCli(args, env);
    runs++;
    expect(okCodes, last.stderr).toContain(last.code);
  }
  return { kills: killedAt.length, runs, killedAt };
}

/** The application's edits of migrated documents, made before the incremental runs: parents, child rows, deletions. */
interface AppEdits {
  parents: string[];
  children: string[];
  deleted: string[];
}

/** Rows of the edited documents as the application left them (order and its items). */
async function editedRows(uuids: readonly string[]): Promise<string[]> {
  const r = await db.pg.query<{ row: string }>(
    `SELECT md5(row_to_json(o)::text) || ':' || coalesce((SELECT string_agg(md5(row_to_json(i)::text), ',' ORDER BY i.id) FROM order_items i WHERE i.order_id = o.id), '') AS row
       FROM orders o WHERE id = ANY($1::uuid[]) ORDER BY id`,
    [uuids],
  );
  return r.rows.map((row) => row.row);
}

/** The application edits migrated orders in PostgreSQL: `n` main rows, `n` child rows, and deletes `n` orders. */
async function applicationEdits(uuids: readonly string[], n: number): Promise<AppEdits> {
  const edits = { parents: uuids.slice(0, n), children: uuids.slice(n, 2 * n), deleted: uuids.slice(2 * n, 3 * n) };
  await db.pg.query(`UPDATE orders SET notes = 'edited by the app' WHERE id = ANY($1::uuid[])`, [edits.parents]);
  await db.pg.query(`UPDATE order_items SET quantity = 777, name = 'APP EDITED ITEM' WHERE order_id = ANY($1::uuid[])`, [edits.children]);
  await db.pg.query(`DELETE FROM orders WHERE id = ANY($1::uuid[])`, [edits.deleted]);
  return edits;
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const r = await db.pg.query<{ n: number }>(sql, params);
  return r.rows[0]?.n ?? 0;
}

describe(`kill -9 at ${KILLS} random points of migrate, of an incremental sync and of a rollback`, () => {
  it('migrate: the last run leaves exactly the source documents and verify is clean', async () => {
    const done = await killAtRandomPoints(['migrate', 'orders', '--batch-size', batchFor(DOCS)], DOCS, () =>
      count(`SELECT coalesce(sum(docs_written), 0)::int AS n FROM hybrid_migrate.checkpoints WHERE collection = 'orders'`),
    );
    // Most kills must land in a run in progress, or the test proves little.
    expect(done.kills).toBeGreaterThanOrEqual(Math.ceil(KILLS / 2));
    const rows = await expectExact(db, env);
    figures.push(`migrate: ${done.kills} kills in ${done.runs} runs (killed at ${done.killedAt.join(', ')} documents written); ${rows} rows checked, verify clean`);
  }, 1_800_000);

  it('incremental sync with updates, inserts and deletes: the last run brings every change and verify is clean', async () => {
    const orders = db.db.collection('orders');
    // Whole blocks by createdAt (the simple orders' createdAt grows with their _id), and not
    // too many: FerretDB updates and deletes document by document, each a scan of the
    // collection (a third of 20k orders updated took over 4 minutes).
    const base = Date.UTC(2020, 0, 1);
    const updatedFilter = { createdAt: { $lt: new Date(base + Math.floor(DOCS / 20) * 1000) } };
    const deletedFilter = { createdAt: { $gte: new Date(base + Math.floor(DOCS / 40) * 1000), $lt: new Date(base + Math.floor(DOCS / 40 + DOCS / 40) * 1000) } };
    const deleted = (await orders.find(deletedFilter, { projection: { _id: 1 } }).toArray()).map((d) => d._id as ObjectId);
    // The application edits documents that MongoDB then changes too (the first of the updated
    // block, before the deleted half): every kill must leave them as the application left them.
    const contested = (await orders.find({}, { projection: { _id: 1 }, sort: { _id: 1 }, limit: 3 * APP_EDITS }).toArray()).map((d) => objectIdToUuid(d._id as ObjectId));
    appEdits = await applicationEdits(contested, APP_EDITS);
    const appRows = await editedRows([...appEdits.parents, ...appEdits.children]);
    const stamp = new Date();
    const updated = (await orders.updateMany(updatedFilter, { $set: { clientName: 'changed', updatedAt: stamp } })).modifiedCount;
    await orders.deleteMany(deletedFilter);
    // The deleted block is the second half of the updated one: those documents are gone, not changed.
    // The contested ones keep the application's rows (or stay deleted).
    const updatedLeft = (await orders.countDocuments({ clientName: 'changed' })) - 3 * APP_EDITS;
    const inserted = Math.floor(DOCS / 10);
    const ws = (await db.db.collection('workspaces').findOne({}))?._id as ObjectId;
    const fresh = Array.from({ length: inserted }, (_, j) => ({ workspaceId: ws, clientName: 'inserted', status: 'pending', items: [{ name: 'New', quantity: 1, unitPrice: j }], createdAt: stamp }));
    for (let i = 0; i < fresh.length; i += 5000) await orders.insertMany(fresh.slice(i, i + 5000));
    const deletedUuids = deleted.map(objectIdToUuid);

    // Kill points are drawn over the changes and inserts, which commit batch by batch; the
    // deletes follow in one transaction per page, at the end of a run.
    const work = updatedLeft + inserted;
    const done = await killAtRandomPoints(['migrate', 'orders', '--incremental', '--detect-deletes', '--batch-size', batchFor(work)], work, async () => {
      const changed = await count(`SELECT count(*)::int AS n FROM orders WHERE client_name IN ('changed', 'inserted')`);
      const gone = deleted.length - (await count(`SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[])`, [deletedUuids]));
      return changed + gone;
    });
    expect(done.kills).toBeGreaterThanOrEqual(Math.ceil(KILLS / 2));
    expect(await count(`SELECT count(*)::int AS n FROM orders WHERE client_name = 'changed'`)).toBe(updatedLeft);
    expect(await count(`SELECT count(*)::int AS n FROM orders WHERE client_name = 'inserted'`)).toBe(inserted);
    expect(await count(`SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[])`, [deletedUuids])).toBe(0);
    expect(await editedRows([...appEdits.parents, ...appEdits.children])).toEqual(appRows);
    expect(await count(`SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[])`, [appEdits.deleted])).toBe(0);
    const conflicts = await db.pg.query<{ kind: string; n: number }>(
      `SELECT kind, count(*)::int AS n FROM hybrid_migrate.conflicts WHERE collection = 'orders' AND resolution = 'kept' GROUP BY kind ORDER BY kind`,
    );
    expect(conflicts.rows).toEqual([{ kind: 'deleted-by-application', n: APP_EDITS }, { kind: 'modified-by-application', n: 2 * APP_EDITS }]);
    const rows = await expectExact(db, env, { changedByApplication: 2 * APP_EDITS, deletedByApplication: APP_EDITS });
    figures.push(
      `incremental --detect-deletes (${updated} updated, ${inserted} inserted, ${deleted.length} deleted; ${3 * APP_EDITS} of the updated edited or deleted by the application first, kept): ${done.kills} kills in ${done.runs} runs; ${rows} rows checked, verify clean`,
    );
  }, 1_800_000);

  it("rollback: the last run removes every migrated row and leaves the application's rows byte-identical", async () => {
    const wsUuid = (await db.pg.query<{ id: string }>(`SELECT id FROM workspaces LIMIT 1`)).rows[0]?.id;
    await db.pg.query(
      `INSERT INTO orders (id, workspace_id, client_name, status, notes, updated_at)
       SELECT gen_random_uuid(), $1, 'app order ' || g, 'pending', 'from the app', now() FROM generate_series(1, 500) g`,
      [wsUuid],
    );
    await db.pg.query(`INSERT INTO order_items (id, order_id, position, name, quantity) SELECT gen_random_uuid(), id, 0, 'app item', 1 FROM orders WHERE notes = 'from the app'`);
    const appOrders = (await db.pg.query<{ id: string }>(`SELECT id::text FROM orders WHERE notes = 'from the app'`)).rows.map((r) => r.id);
    // The application's own rows and the migrated ones it edited: rollback must leave both byte-identical.
    const snapshot = () => editedRows([...appOrders, ...appEdits.parents, ...appEdits.children]);
    const before = await snapshot();
    expect(before).toHaveLength(500 + 2 * APP_EDITS);
    const mapped = await count(`SELECT count(*)::int AS n FROM hybrid_migrate.id_map WHERE collection = 'orders'`);

    // Exit 1: rows kept because the application changed them.
    const done = await killAtRandomPoints(['rollback', 'orders', '--batch-size', batchFor(mapped)], mapped - 2 * APP_EDITS, async () =>
      mapped - (await count(`SELECT count(*)::int AS n FROM hybrid_migrate.id_map WHERE collection = 'orders'`)),
      [1],
    );
    expect(done.kills).toBeGreaterThanOrEqual(Math.ceil(KILLS / 2));
    expect(await snapshot()).toEqual(before);
    const left = await db.pg.query(`
      SELECT (SELECT count(*)::int FROM orders) AS orders,
             (SELECT count(*)::int FROM order_items) AS items,
             (SELECT count(*)::int FROM hybrid_migrate.id_map WHERE collection = 'orders') AS mapped`);
    expect(left.rows[0]).toEqual({ orders: 500 + 2 * APP_EDITS, items: 500 + 2 * APP_EDITS, mapped: 2 * APP_EDITS });
    const again = await runCli(['rollback', 'orders', '--json'], env);
    expect(again.code, again.stderr).toBe(1);
    expect(JSON.parse(again.stdout).collections[0]).toMatchObject({ deleted: 0, skippedModified: 2 * APP_EDITS });
    figures.push(
      `rollback: ${done.kills} kills in ${done.runs} runs; ${mapped - 2 * APP_EDITS} migrated rows removed, 500 application rows and ${2 * APP_EDITS} migrated orders the application edited (and their items) byte-identical`,
    );
  }, 1_800_000);
});
