/**
 * Issue 16: --detect-deletes treats a document as a unit too: a document deleted in MongoDB
 * whose child row the application changed is kept whole (and recorded), not deleted.
 */
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
  ({ env, ids } = await migrateSimpleOrders(t, 10));
});

describe('--detect-deletes and child rows the application changed', () => {
  it('keeps the whole document and records it; deletes the untouched one', async () => {
    const edited = objectIdToUuid(ids[1] as ObjectId);
    const plain = objectIdToUuid(ids[2] as ObjectId);
    const item = childUuid(edited, 'OrderItem', 0);
    await t.pg.query(`UPDATE order_items SET quantity = 777 WHERE id = $1`, [item]);
    await t.db.collection('orders').deleteMany({ _id: { $in: [ids[1] as ObjectId, ids[2] as ObjectId] } });

    const r = await runCli(['--json', 'migrate', '--incremental', '--detect-deletes', 'orders'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).collections[0]).toMatchObject({ deletedInSource: 1, deleteBlocked: 1 });
    const rows = await t.pg.query(`SELECT o.id::text, i.quantity FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.id = ANY($1::uuid[])`, [[edited, plain]]);
    expect(rows.rows).toEqual([{ id: edited, quantity: 777 }]);
    const conflicts = await t.pg.query(`SELECT uuid::text, kind FROM hybrid_migrate.conflicts`);
    expect(conflicts.rows).toEqual([{ uuid: edited, kind: 'deleted-in-source-but-kept' }]);
  });
});
