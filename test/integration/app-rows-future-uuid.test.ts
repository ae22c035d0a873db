/**
 * The application wrote a row of its own under the UUID a MongoDB document maps to (the
 * combined read shows old documents under that UUID, and the application saved one through
 * Prisma with it) before the migration reached the document. The row is the application's:
 * never overwritten, never removed by rollback. The document is left to the application and
 * recorded as a conflict naming the row, not refused into the rejects: status and verify count
 * it as changed by the application, not as rejected, pending or missing.
 */
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli, type CliEnv } from '../support/cli.js';
import { insertSimpleOrders, simpleOrder } from '../support/simple-orders.js';
import { objectIdToUuid } from '../../src/core/ids.js';

const t = useTestDatabases();
let env: CliEnv;
let ids: ObjectId[];
let ws: ObjectId;

beforeAll(async () => {
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
  ws = await insertSimpleOrders(t.db, 12);
  ids = (await t.db.collection('orders').find({}, { projection: { _id: 1 }, sort: { _id: 1 } }).toArray()).map((d) => d._id as ObjectId);
  const r = await runCli(['migrate', 'workspaces'], env);
  expect(r.code, r.stderr).toBe(0);
});

const appRow = (id: ObjectId, name: string) =>
  t.pg.query(`INSERT INTO orders (id, workspace_id, client_name, status, created_at) VALUES ($1, $2, $3, 'confirmed', now())`, [objectIdToUuid(id), objectIdToUuid(ws), name]);
const rowOf = async (id: ObjectId) => (await t.pg.query(`SELECT client_name, status FROM orders WHERE id = $1`, [objectIdToUuid(id)])).rows[0];
const key = (id: ObjectId) => `oid:${id.toHexString()}`;

describe('an application row under a document’s UUID, written before the migration reached it', () => {
  it('migrate keeps the row and records a conflict; status and verify account for the document', async () => {
    // Two in one batch: found together on the batch's duplicate key.
    const first = ids[3] as ObjectId;
    const other = ids[7] as ObjectId;
    await appRow(first, 'app wrote it');
    await appRow(other, 'and this one');

    const m = await runCli(['--json', 'migrate', 'orders'], env);
    expect(m.code, m.stderr).toBe(0);
    expect(JSON.parse(m.stdout).collections[0]).toMatchObject({ migrated: 10, rejected: 0, skippedModified: 2 });
    expect(await rowOf(first)).toEqual({ client_name: 'app wrote it', status: 'confirmed' });
    expect(await rowOf(other)).toEqual({ client_name: 'and this one', status: 'confirmed' });
    expect((await t.pg.query(`SELECT count(*)::int AS n FROM order_items WHERE order_id = $1`, [objectIdToUuid(first)])).rows[0]).toEqual({ n: 0 });
    expect((await t.pg.query(`SELECT count(*)::int AS n FROM hybrid_migrate.rejects`)).rows[0]).toEqual({ n: 0 });
    expect((await t.pg.query(`SELECT count(*)::int AS n FROM hybrid_migrate.id_map WHERE source_key = $1`, [key(first)])).rows[0]).toEqual({ n: 0 });
    const conflicts = await t.pg.query(`SELECT source_key, kind, row_table, row_uuid::text, resolution FROM hybrid_migrate.conflicts ORDER BY source_key`);
    expect(conflicts.rows).toEqual(
      [first, other].map((id) => ({ source_key: key(id), kind: 'modified-by-application', row_table: 'orders', row_uuid: objectIdToUuid(id), resolution: 'kept' })).sort((a, b) => a.source_key.localeCompare(b.source_key)),
    );

    // The incremental sync (upsert) meets a second such row, for a document added to MongoDB since.
    const second = new ObjectId();
    await t.db.collection('orders').insertOne({ ...simpleOrder(second, ws, 99), updatedAt: new Date() });
    await appRow(second, 'app wrote this one too');
    const inc = await runCli(['--json', 'migrate', '--incremental', 'orders'], env);
    expect(inc.code, inc.stderr).toBe(0);
    expect(JSON.parse(inc.stdout).collections[0]).toMatchObject({ rejected: 0, skippedModified: 1 });
    expect(await rowOf(second)).toEqual({ client_name: 'app wrote this one too', status: 'confirmed' });

    // Accounted for: neither pending nor rejected (exact and estimated), nor missing in verify.
    for (const [flags, pendingExact] of [[['--exact'], true], [['--exact-limit', '1'], false]] as const) {
      const s = await runCli(['status', 'orders', '--json', ...flags], env);
      expect(s.code, s.stderr).toBe(0);
      const orders = JSON.parse(s.stdout).collections[0];
      expect(orders, flags.join(' ')).toMatchObject({ documents: 13, migrated: 10, pending: 0, pendingExact, rejected: 0, leftToApplication: 3 });
    }
    expect((await runCli(['status', 'orders'], env)).stdout).toMatch(/3 document\(s\) left to the application, which had written their row itself/);
    const v = await runCli(['verify', 'orders', '--json', '--no-report'], env);
    expect(v.code, v.stdout).toBe(0);
    const verified = JSON.parse(v.stdout).collections[0];
    expect(verified).toMatchObject({ missing: 0, extra: 0, mismatched: 0, rejected: 0, changedByApplication: 3 });
    expect(verified.applicationChanges.map((c: { sourceKey: string }) => c.sourceKey).sort()).toEqual([key(first), key(other), key(second)].sort());
    const ready = JSON.parse((await runCli(['status', 'orders', '--json', '--exact'], env)).stdout).collections[0].readyForPhase3;
    expect(ready.blockers).toEqual([]);

    // Rollback removes what the migration wrote and nothing of the application's.
    const rb = await runCli(['--json', 'rollback', 'orders'], env);
    expect(rb.code, rb.stderr).toBe(0);
    expect(await rowOf(first)).toEqual({ client_name: 'app wrote it', status: 'confirmed' });
    expect(await rowOf(second)).toEqual({ client_name: 'app wrote this one too', status: 'confirmed' });
    expect((await t.pg.query(`SELECT id::text FROM orders ORDER BY 1`)).rows).toEqual([first, other, second].map((id) => ({ id: objectIdToUuid(id) })).sort((a, b) => a.id.localeCompare(b.id)));
  });
});
