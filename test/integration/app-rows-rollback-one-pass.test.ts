/**
 * Issue 16, item 4: rollback decides what to keep after it knows what it deletes. A migrated
 * product referenced only by the migration's own order_items (deleted by the same rollback)
 * is deleted in the same pass; a second rollback deletes nothing.
 */
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';

const t = useTestDatabases();
let env: { MONGO_URI: string; DATABASE_URL: string };

beforeAll(async () => {
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
  const ws = new ObjectId();
  await t.db.collection('workspaces').insertOne({ _id: ws, name: 'Shop', slug: 'shop-one-pass', currency: 'XOF', createdAt: new Date('2020-01-01T00:00:00Z') });
  const products = [new ObjectId(), new ObjectId()];
  await t.db.collection('products').insertMany(products.map((_id, i) => ({ _id, workspaceId: ws, name: `Product ${i}`, createdAt: new Date('2020-01-01T00:00:00Z') })));
  await t.db.collection('orders').insertMany(
    [0, 1, 2].map((i) => ({
      workspaceId: ws,
      clientName: `Client ${i}`,
      status: 'pending',
      items: [{ name: 'Article', quantity: 1, unitPrice: 1000, productId: products[i % 2] }],
      createdAt: new Date('2020-01-02T00:00:00Z'),
    })),
  );
  const r = await runCli(['migrate', 'workspaces', 'products', 'orders'], env);
  expect(r.code, r.stderr).toBe(0);
  const linked = await t.pg.query(`SELECT count(*)::int AS n FROM order_items WHERE product_id IS NOT NULL`);
  expect(linked.rows[0]).toEqual({ n: 3 });
});

describe('rollback of products and the orders whose items reference them', () => {
  it('deletes everything in one pass; a second rollback deletes nothing', async () => {
    const dry = await runCli(['--json', 'rollback', '--dry-run', 'products', 'orders'], env);
    const planned = JSON.parse(dry.stdout).collections as { name: string; deleted: number; blocked: number }[];
    expect(planned.find((c) => c.name === 'products')).toMatchObject({ deleted: 2, blocked: 0 });

    const first = await runCli(['--json', 'rollback', 'products', 'orders'], env);
    expect(first.code, first.stdout).toBe(0);
    const done = JSON.parse(first.stdout).collections as { name: string; deleted: number; blocked: number }[];
    expect(done.find((c) => c.name === 'products')).toMatchObject({ deleted: 2, blocked: 0 });
    expect(done.find((c) => c.name === 'orders')).toMatchObject({ deleted: 3, blocked: 0 });
    const left = await t.pg.query(`SELECT (SELECT count(*)::int FROM products) AS p, (SELECT count(*)::int FROM orders) AS o, (SELECT count(*)::int FROM order_items) AS i`);
    expect(left.rows[0]).toEqual({ p: 0, o: 0, i: 0 });

    const second = await runCli(['--json', 'rollback', 'products', 'orders'], env);
    expect(second.code, second.stdout).toBe(0);
    for (const c of JSON.parse(second.stdout).collections as { deleted: number }[]) expect(c.deleted).toBe(0);
  });
});
