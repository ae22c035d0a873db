/**
 * Issue 16, item 6: verify reports the documents whose rows the application changed or
 * deleted since migration apart (changedByApplication, deletedByApplication, with samples
 * naming the table and row), apart from its mismatched / missing counts, and they do not make it exit 1.
 */
import { randomUUID } from 'node:crypto';
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { runCli } from '../support/cli.js';
import { migrateSimpleOrders } from '../support/crash-checks.js';
import { childUuid, objectIdToUuid } from '../../src/core/ids.js';

const t = useTestDatabases();
let env: { MONGO_URI: string; DATABASE_URL: string };
let ids: ObjectId[];

beforeAll(async () => {
  ({ env, ids } = await migrateSimpleOrders(t, 20));
});

describe('verify after the application changed migrated rows', () => {
  it('counts changed and deleted documents apart, naming the rows', async () => {
    const itemOrder = objectIdToUuid(ids[1] as ObjectId);
    const item = childUuid(itemOrder, 'OrderItem', 0);
    const mainOrder = objectIdToUuid(ids[2] as ObjectId);
    const deleted = objectIdToUuid(ids[3] as ObjectId);
    await t.pg.query(`UPDATE order_items SET quantity = 777 WHERE id = $1`, [item]);
    await t.pg.query(`UPDATE orders SET notes = 'app note' WHERE id = $1`, [mainOrder]);
    await t.pg.query(`DELETE FROM orders WHERE id = $1`, [deleted]);

    const r = await runCli(['verify', 'orders', '--json', '--no-report'], env);
    const json = JSON.parse(r.stdout);
    const orders = json.collections[0];
    expect(orders).toMatchObject({ changedByApplication: 2, deletedByApplication: 1 });
    // The application's changes are not differences: verify agrees and exits 0 (it exited 1 for good before).
    expect(orders).toMatchObject({ mismatched: 0, missing: 0, extra: 0, mismatches: [], missingRows: [] });
    expect(json.ok).toBe(true);
    expect(r.code).toBe(0);
    const byUuid = new Map((orders.applicationChanges as { uuid: string }[]).map((c) => [c.uuid, c]));
    expect(byUuid.get(itemOrder)).toMatchObject({ kind: 'modified-by-application', table: 'order_items', row: item });
    expect(byUuid.get(mainOrder)).toMatchObject({ kind: 'modified-by-application', table: 'orders', row: mainOrder });
    expect(byUuid.get(deleted)).toMatchObject({ kind: 'deleted-by-application', table: 'orders', row: deleted });
  });
});

describe('verify after the application added lines to migrated orders', () => {
  it("an added line is the application's own row: not compared, the document counted as the application's change; so is one where MongoDB then added its own", async () => {
    // Order 5: the application adds a line at position 7. Order 6: at position 1, then MongoDB pushes a second item (position 1 too).
    const added = objectIdToUuid(ids[5] as ObjectId);
    const clash = objectIdToUuid(ids[6] as ObjectId);
    for (const [order, position] of [[added, 7], [clash, 1]] as const) {
      await t.pg.query(`INSERT INTO order_items (id, order_id, position, name, quantity, unit_price) VALUES ($1, $2, $3, 'app line', 1, 100)`, [randomUUID(), order, position]);
    }
    await t.db.collection('orders').updateOne({ _id: ids[6] }, { $push: { items: { name: 'Second', quantity: 2, unitPrice: 50 } } as never, $set: { updatedAt: new Date() } });
    const sync = await runCli(['--json', 'migrate', 'orders', '--incremental'], env);
    expect(sync.code, sync.stderr).toBe(0);
    expect(JSON.parse(sync.stdout).collections[0]).toMatchObject({ skippedModified: 1 });

    const r = await runCli(['verify', 'orders', '--json', '--no-report'], env);
    const orders = JSON.parse(r.stdout).collections[0];
    expect(orders.mismatches, JSON.stringify(orders.mismatches)).toEqual([]);
    expect(orders).toMatchObject({ mismatched: 0 });
    const byUuid = new Map((orders.applicationChanges as { uuid: string }[]).map((c) => [c.uuid, c]));
    expect(byUuid.get(added)).toMatchObject({ kind: 'modified-by-application', table: 'order_items' });
    expect(byUuid.get(clash)).toMatchObject({ kind: 'modified-by-application', table: 'order_items' });
    expect(r.code, r.stdout).toBe(0);
  });
});
