/**
 * Issue 16: a document is a unit. When the application changed or deleted any of its rows
 * (the main row or a child row), `migrate --incremental`, `--restart` and `rollback` leave all
 * of that document's rows as they are and record one conflict naming the table and the row;
 * `--force` / `onConflict: 'overwrite'` are the only ways to overwrite.
 */
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { insertSimpleOrders } from '../support/simple-orders.js';
import { childUuid, objectIdToUuid } from '../../src/core/ids.js';

const t = useTestDatabases();
let env: { MONGO_URI: string; DATABASE_URL: string };
let ids: ObjectId[];

beforeAll(async () => {
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
  await insertSimpleOrders(t.db, 40);
  ids = (await t.db.collection('orders').find({}, { projection: { _id: 1 }, sort: { _id: 1 } }).toArray()).map((d) => d._id as ObjectId);
  const r = await runCli(['migrate', '--skip-missing-collections'], env);
  expect(r.code, r.stderr).toBe(0);
});

async function incremental(extra: string[] = []): Promise<{ code: number; summary: Record<string, unknown>; stderr: string }> {
  const r = await runCli(['--json', 'migrate', '--incremental', ...extra, 'orders'], env);
  const out = JSON.parse(r.stdout || '{}') as { collections?: Record<string, unknown>[] };
  return { code: r.code ?? -1, summary: out.collections?.find((c) => c.name === 'orders') ?? {}, stderr: r.stderr };
}

const touch = (id: ObjectId, notes: string) => t.db.collection('orders').updateOne({ _id: id }, { $set: { notes, updatedAt: new Date() } });

describe('a document whose child row the application edited', () => {
  it('is left whole by --incremental and --restart, with one conflict naming the child row', async () => {
    const edited = ids[3] as ObjectId;
    const control = ids[4] as ObjectId;
    const order = objectIdToUuid(edited);
    const item = childUuid(order, 'OrderItem', 0);
    const upd = await t.pg.query(`UPDATE order_items SET quantity = 777, name = 'APP EDITED ITEM' WHERE id = $1`, [item]);
    expect(upd.rowCount).toBe(1);
    await touch(edited, 'changed in MongoDB');
    await touch(control, 'control changed in MongoDB');

    const r = await incremental();
    expect(r.code, r.stderr).toBe(0);
    expect(r.summary).toMatchObject({ migrated: 1, skippedModified: 1 });
    const rows = await t.pg.query(`SELECT o.notes, i.quantity, i.name FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.id = $1`, [order]);
    expect(rows.rows).toEqual([{ notes: null, quantity: 777, name: 'APP EDITED ITEM' }]);
    const ctl = await t.pg.query(`SELECT notes FROM orders WHERE id = $1`, [objectIdToUuid(control)]);
    expect(ctl.rows).toEqual([{ notes: 'control changed in MongoDB' }]);
    const conflicts = await t.pg.query(`SELECT kind, row_table, row_uuid::text FROM hybrid_migrate.conflicts WHERE uuid = $1`, [order]);
    expect(conflicts.rows).toEqual([{ kind: 'modified-by-application', row_table: 'order_items', row_uuid: item }]);

    const restarted = await runCli(['--json', 'migrate', '--restart', 'orders'], env);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(JSON.parse(restarted.stdout).collections[0]).toMatchObject({ skippedModified: 1 });
    const again = await t.pg.query(`SELECT o.notes, i.quantity, i.name FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.id = $1`, [order]);
    expect(again.rows).toEqual([{ notes: null, quantity: 777, name: 'APP EDITED ITEM' }]);
  });

  it('is kept by rollback (dry run) unless --force', async () => {
    const order = objectIdToUuid(ids[3] as ObjectId);
    const r = await runCli(['--json', 'rollback', '--dry-run', 'orders'], env);
    const out = JSON.parse(r.stdout);
    expect(out.collections[0]).toMatchObject({ skippedModified: 1 });
    expect(JSON.stringify(out.collections[0].samples.skippedModified)).toContain(order);
  });
});

describe('documents whose rows the application deleted', () => {
  it('are never brought back by --incremental or --restart; each records deleted-by-application', async () => {
    const gone = [ids[10], ids[11], ids[12]] as ObjectId[];
    const uuids = gone.map((id) => objectIdToUuid(id));
    await t.pg.query(`DELETE FROM orders WHERE id = ANY($1::uuid[])`, [uuids]);
    for (const id of gone) await touch(id, 'changed after the app deleted it');

    const r = await incremental();
    expect(r.code, r.stderr).toBe(0);
    // The overlap window reads the document of the test above again: still kept (4 = 3 + 1).
    expect(r.summary).toMatchObject({ migrated: 0, skippedModified: 4 });
    const back = await t.pg.query(`SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[])`, [uuids]);
    expect(back.rows[0]).toEqual({ n: 0 });
    const conflicts = await t.pg.query(`SELECT uuid::text, row_table, row_uuid::text FROM hybrid_migrate.conflicts WHERE kind = 'deleted-by-application' ORDER BY uuid`);
    expect(conflicts.rows).toEqual(uuids.sort().map((u) => ({ uuid: u, row_table: 'orders', row_uuid: u })));

    const restarted = await runCli(['--json', 'migrate', '--restart', 'orders'], env);
    expect(restarted.code, restarted.stderr).toBe(0);
    const still = await t.pg.query(`SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[])`, [uuids]);
    expect(still.rows[0]).toEqual({ n: 0 });
  });
});

describe('rollback after all of the above', () => {
  it('keeps the document with the edited child row (exit 1), in one pass; --force removes it', async () => {
    const order = objectIdToUuid(ids[3] as ObjectId);
    const r = await runCli(['--json', 'rollback', 'orders'], env);
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).collections[0]).toMatchObject({ skippedModified: 1, blocked: 0 });
    const kept = await t.pg.query(`SELECT o.notes, i.quantity, i.name FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.id = $1`, [order]);
    expect(kept.rows).toEqual([{ notes: null, quantity: 777, name: 'APP EDITED ITEM' }]);
    const left = await t.pg.query(`SELECT count(*)::int AS n FROM orders`);
    expect(left.rows[0]).toEqual({ n: 1 });

    const again = await runCli(['--json', 'rollback', 'orders'], env);
    expect(JSON.parse(again.stdout).collections[0]).toMatchObject({ deleted: 0, skippedModified: 1 });

    const forced = await runCli(['--json', 'rollback', '--force', 'orders'], env);
    expect(forced.code, forced.stderr).toBe(0);
    const none = await t.pg.query(`SELECT (SELECT count(*)::int FROM orders) AS o, (SELECT count(*)::int FROM order_items) AS i`);
    expect(none.rows[0]).toEqual({ o: 0, i: 0 });
  });
});
