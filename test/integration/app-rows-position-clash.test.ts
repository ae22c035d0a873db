/**
 * Issue 16, item 5: the application added an item at position 1 of a migrated order, and
 * MongoDB's document also got a second item. The document is kept as it is in PostgreSQL and
 * recorded as a conflict naming the application's row; it is never both registered and rejected.
 */
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { runCli } from '../support/cli.js';
import { migrateSimpleOrders } from '../support/crash-checks.js';
import { objectIdToUuid } from '../../src/core/ids.js';

const t = useTestDatabases();
let env: { MONGO_URI: string; DATABASE_URL: string };
let ids: ObjectId[];

beforeAll(async () => {
  ({ env, ids } = await migrateSimpleOrders(t, 10));
});

describe('an application item at the position MongoDB fills too', () => {
  it('keeps the document, records a conflict, never rejects it', async () => {
    const order = objectIdToUuid(ids[4] as ObjectId);
    const app = await t.pg.query<{ id: string }>(`INSERT INTO order_items (id, order_id, position, name, quantity) VALUES (gen_random_uuid(), $1, 1, 'app item', 2) RETURNING id::text`, [order]);
    await t.db.collection('orders').updateOne({ _id: ids[4] }, { $push: { items: { name: 'Second', quantity: 3, unitPrice: 500 } }, $set: { updatedAt: new Date() } } as never);

    const r = await runCli(['--json', 'migrate', '--incremental', 'orders'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).collections[0]).toMatchObject({ rejected: 0, skippedModified: 1 });
    const rejects = await t.pg.query(`SELECT count(*)::int AS n FROM hybrid_migrate.rejects WHERE source_key = $1`, [`oid:${(ids[4] as ObjectId).toHexString()}`]);
    expect(rejects.rows[0]).toEqual({ n: 0 });
    const items = await t.pg.query(`SELECT position, name FROM order_items WHERE order_id = $1 ORDER BY position`, [order]);
    expect(items.rows).toEqual([{ position: 0, name: 'Article' }, { position: 1, name: 'app item' }]);
    const conflicts = await t.pg.query(`SELECT kind, row_table, row_uuid::text FROM hybrid_migrate.conflicts WHERE uuid = $1`, [order]);
    expect(conflicts.rows).toEqual([{ kind: 'modified-by-application', row_table: 'order_items', row_uuid: app.rows[0]?.id }]);
  });
});
