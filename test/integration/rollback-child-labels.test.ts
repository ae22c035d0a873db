/**
 * Why a rollback keeps a row, named truthfully: products still referenced by the order_items
 * the migration wrote for orders that stay were reported as "referenced by application rows
 * of public.order_items", on a database no application had written to (found by a black-box
 * run on a social data set: post_likes of posts kept users). Child rows are never registered
 * in id_map; a version-5 child row under a registered parent is the migration's. A row the
 * application wrote there still says "application rows".
 */
import { randomUUID } from 'node:crypto';
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli, type CliEnv } from '../support/cli.js';
import { runMigrate } from '../support/migration.js';
import { objectIdToUuid } from '../../src/core/ids.js';

const t = useTestDatabases();
const ws = new ObjectId();
const products = [new ObjectId(), new ObjectId(), new ObjectId()];
let env: CliEnv;

beforeAll(async () => {
  const at = new Date('2021-01-01T00:00:00Z');
  await t.db.collection('workspaces').insertOne({ _id: ws, name: 'Shop', slug: 'shop-labels', currency: 'XOF', createdAt: at });
  await t.db.collection('products').insertMany(products.map((_id, i) => ({ _id, workspaceId: ws, name: `Product ${i}`, createdAt: at })));
  // Orders 0..3 sell product 0; product 1 is in no order; product 2 only in the application's row below.
  await t.db.collection('orders').insertMany(
    Array.from({ length: 4 }, (_, i) => ({ workspaceId: ws, clientName: `Client ${i}`, status: 'pending', items: [{ productId: products[0], name: 'P0', quantity: 1, unitPrice: 1000 }], createdAt: at })),
  );
  const r = await runMigrate(t.db, t.pg, { collections: ['workspaces', 'products', 'orders'] });
  expect(r.collections.map((c) => c.migrated)).toEqual([1, 3, 4]);
  // The application adds a line to a migrated order, selling product 2 (its own id: a v4 UUID).
  const order = await t.pg.query<{ id: string }>(`SELECT id FROM orders LIMIT 1`);
  await t.pg.query(
    `INSERT INTO order_items (id, order_id, position, product_id, name, quantity, unit_price) VALUES ($1, $2, 99, $3, 'P2', 1, 500)`,
    [randomUUID(), order.rows[0]?.id, objectIdToUuid(products[2] as ObjectId)],
  );
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
}, 120_000);

describe('rollback names who keeps a row', () => {
  it("the migration's child rows of orders that stay are 'migrated child rows', the application's line 'application rows'", async () => {
    const r = await runCli(['--json', 'rollback', 'products', '--dry-run'], env);
    expect(r.code, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as { collections: { name: string; blocked: number; blockedReasons: Record<string, number> }[] };
    const c = out.collections.find((x) => x.name === 'products');
    expect(c?.blocked).toBe(2);
    expect(c?.blockedReasons).toEqual({
      'referenced by migrated child rows that stay of public.order_items (product_id)': 1,
      'referenced by application rows of public.order_items (product_id)': 1,
    });
  });
});
