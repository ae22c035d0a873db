/**
 * The application keeps writing to the same tables during Phase 2. The migration writes
 * only rows whose ids derive from source documents, and --restart never overwrites a row
 * the application changed since it was migrated.
 */
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { runMigrate } from '../support/migration.js';
import { insertSimpleOrders } from '../support/simple-orders.js';
import { objectIdToUuid } from '../../src/core/ids.js';

const t = useTestDatabases();
let ws: ObjectId;

async function appSnapshot(): Promise<string[]> {
  const r = await t.pg.query<{ h: string }>(`
    SELECT 'o' || md5(to_jsonb(o)::text) AS h FROM orders o WHERE id NOT IN (SELECT uuid FROM hybrid_migrate.id_map)
    UNION ALL SELECT 'i' || md5(to_jsonb(i)::text) FROM order_items i WHERE order_id NOT IN (SELECT uuid FROM hybrid_migrate.id_map)
    ORDER BY 1`);
  return r.rows.map((x) => x.h);
}

beforeAll(async () => {
  ws = await insertSimpleOrders(t.db, 200);
  // The application already writes new data to PostgreSQL: a workspace of its own and orders in both workspaces.
  await t.pg.query(`INSERT INTO workspaces (id, name, slug, currency) VALUES ('0190f5e2-7b1a-7000-8000-000000000001', 'App shop', 'app-shop', 'EUR')`);
});

describe('rows the application writes', () => {
  it('are never touched by migrate or migrate --restart; rows it changed are kept and reported', async () => {
    const first = await runMigrate(t.db, t.pg, { collections: ['workspaces'] });
    expect(first.collections[0]).toMatchObject({ migrated: 1 });
    const wsUuid = objectIdToUuid(ws);
    await t.pg.query(`
      INSERT INTO orders (id, workspace_id, client_name, status, updated_at)
      SELECT gen_random_uuid(), w, 'app order ' || g, 'pending', now()
        FROM generate_series(1, 50) g, unnest(ARRAY['0190f5e2-7b1a-7000-8000-000000000001'::uuid, $1::uuid]) w`, [wsUuid]);
    await t.pg.query(`INSERT INTO order_items (id, order_id, position, name, quantity) SELECT gen_random_uuid(), id, 0, 'app item', 1 FROM orders`);
    const before = await appSnapshot();
    expect(before).toHaveLength(200);

    const migrated = await runMigrate(t.db, t.pg, { collections: ['orders'], batchSize: 37 });
    expect(migrated.collections[0]).toMatchObject({ read: 200, migrated: 200, rejected: 0 });
    expect(await appSnapshot()).toEqual(before);

    // The application edits one migrated order; the source changes for every order.
    const edited = await t.pg.query<{ id: string }>(`UPDATE orders SET notes = 'edited by the app' WHERE id = (SELECT uuid FROM hybrid_migrate.id_map WHERE collection = 'orders' ORDER BY uuid LIMIT 1) RETURNING id`);
    await t.db.collection('orders').updateMany({}, { $set: { clientName: 'renamed in MongoDB' } });

    const restarted = await runMigrate(t.db, t.pg, { collections: ['orders'], restart: true, batchSize: 37 });
    expect(restarted.collections[0]).toMatchObject({ read: 200, migrated: 199, skippedModified: 1, rejected: 0 });
    expect(await appSnapshot()).toEqual(before);
    const kept = await t.pg.query(`SELECT notes, client_name FROM orders WHERE id = $1`, [edited.rows[0]?.id]);
    expect(kept.rows[0]).toEqual({ notes: 'edited by the app', client_name: 'Client 0' });
    const renamed = await t.pg.query(`SELECT count(*)::int AS n FROM orders o JOIN hybrid_migrate.id_map m ON m.uuid = o.id WHERE o.client_name = 'renamed in MongoDB'`);
    expect(renamed.rows[0]).toEqual({ n: 199 });
    const total = await t.pg.query(`SELECT (SELECT count(*)::int FROM orders) AS orders, (SELECT count(*)::int FROM order_items) AS items`);
    expect(total.rows[0]).toEqual({ orders: 300, items: 300 }); // 100 + 200 orders, 100 + 200 items
  });
});
