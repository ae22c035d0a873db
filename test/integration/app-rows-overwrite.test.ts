/**
 * Issue 16: onConflict 'overwrite' is the one way (with rollback --force) to overwrite what
 * the application changed or deleted, and it is reported: each such document gets its row
 * in hybrid_migrate.conflicts with resolution 'overwritten'.
 */
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { runMigrate, shippedMapping } from '../support/migration.js';
import { insertSimpleOrders } from '../support/simple-orders.js';
import { childUuid, objectIdToUuid } from '../../src/core/ids.js';
import { migrate } from '../../src/use-cases/migrate/migrate.js';
import type { MappedCollection } from '../../src/core/mapping.js';

const t = useTestDatabases();
let ids: ObjectId[];

beforeAll(async () => {
  await insertSimpleOrders(t.db, 10);
  ids = (await t.db.collection('orders').find({}, { projection: { _id: 1 }, sort: { _id: 1 } }).toArray()).map((d) => d._id as ObjectId);
  await runMigrate(t.db, t.pg, { collections: ['workspaces', 'orders'] });
});

describe("onConflict: 'overwrite'", () => {
  it('overwrites the edited child row and brings back the deleted order, and reports both', async () => {
    const edited = objectIdToUuid(ids[1] as ObjectId);
    const deleted = objectIdToUuid(ids[2] as ObjectId);
    await t.pg.query(`UPDATE order_items SET quantity = 777 WHERE id = $1`, [childUuid(edited, 'OrderItem', 0)]);
    await t.pg.query(`DELETE FROM orders WHERE id = $1`, [deleted]);
    await t.db.collection('orders').updateMany({ _id: { $in: [ids[1] as ObjectId, ids[2] as ObjectId] } }, { $set: { notes: 'from MongoDB', updatedAt: new Date() } });

    const mapping = await shippedMapping();
    (mapping.collections.get('orders') as MappedCollection).onConflict = 'overwrite';
    const r = await migrate({ db: t.db, pool: t.pg, mapping }, { collections: ['orders'], dryRun: false, restart: false, incremental: true, partitionSize: 500_000, signal: new AbortController().signal });
    expect(r.collections[0]).toMatchObject({ migrated: 2, skippedModified: 0, overwritten: 2 });
    const rows = await t.pg.query(`SELECT o.id::text, o.notes, i.quantity FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.id = ANY($1::uuid[]) ORDER BY 1`, [[edited, deleted]]);
    expect(rows.rows).toEqual([edited, deleted].sort().map((id) => ({ id, notes: 'from MongoDB', quantity: 1 })));
    const conflicts = await t.pg.query(`SELECT uuid::text, kind, resolution, row_table FROM hybrid_migrate.conflicts ORDER BY uuid`);
    expect(conflicts.rows).toEqual(
      [
        { uuid: edited, kind: 'modified-by-application', resolution: 'overwritten', row_table: 'order_items' },
        { uuid: deleted, kind: 'deleted-by-application', resolution: 'overwritten', row_table: 'orders' },
      ].sort((a, b) => a.uuid.localeCompare(b.uuid)),
    );
  });
});
