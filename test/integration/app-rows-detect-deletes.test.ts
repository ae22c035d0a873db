/**
 * Issue 16: --detect-deletes treats a document as a unit too: a document deleted in MongoDB
 * whose child row the application changed is kept whole (and recorded), not deleted.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { runCli } from '../support/cli.js';
import { migrateSimpleOrders } from '../support/crash-checks.js';
import { childUuid, objectIdToUuid } from '../../src/core/ids.js';
import { REPO_ROOT } from '../support/migration.js';

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

describe("--detect-deletes with onConflict 'overwrite'", () => {
  it('deletes the documents the application had changed too, and records each as overwritten (it was silent)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-overwrite-'));
    const config = join(dir, 'hybrid-migrate.config.ts');
    writeFileSync(
      config,
      `import base from ${JSON.stringify(join(REPO_ROOT, 'hybrid-migrate.config.ts'))};
export default { ...base, schema: ${JSON.stringify(join(REPO_ROOT, 'prisma/schema.prisma'))}, collections: { ...base.collections, orders: { ...base.collections.orders, onConflict: 'overwrite' } } };
`,
    );
    const order = objectIdToUuid(ids[3] as ObjectId);
    const withItem = objectIdToUuid(ids[4] as ObjectId);
    await t.pg.query(`UPDATE orders SET client_name = 'edited' WHERE id = $1`, [order]);
    await t.pg.query(`UPDATE order_items SET quantity = 42 WHERE id = $1`, [childUuid(withItem, 'OrderItem', 0)]);
    await t.db.collection('orders').deleteMany({ _id: { $in: [ids[3] as ObjectId, ids[4] as ObjectId] } });

    // The document the test above kept (its item edited, deleted in MongoDB) goes now as well.
    const keptAbove = objectIdToUuid(ids[1] as ObjectId);
    const r = await runCli(['--config', config, '--json', 'migrate', '--incremental', '--detect-deletes', 'orders'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).collections[0]).toMatchObject({ deletedInSource: 3, deleteBlocked: 0, overwritten: 3 });
    const left = await t.pg.query(`SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[])`, [[order, withItem, keptAbove]]);
    expect(left.rows[0].n).toBe(0);
    const conflicts = await t.pg.query(`SELECT uuid::text, kind, resolution FROM hybrid_migrate.conflicts WHERE uuid = ANY($1::uuid[]) AND resolution = 'overwritten'`, [[order, withItem, keptAbove]]);
    expect(new Set(conflicts.rows.map((c) => c.uuid))).toEqual(new Set([order, withItem, keptAbove]));
    expect(new Set(conflicts.rows.map((c) => c.kind))).toEqual(new Set(['modified-by-application']));
  });
});
