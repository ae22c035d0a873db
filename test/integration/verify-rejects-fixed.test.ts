/**
 * A document set aside by migrate and fixed in MongoDB since, without an updatedAt the sync
 * could see: verify said "agree" (rejected, accounted for) although the document now converts
 * and has no row (found by a black-box run: a NaN reading set to 5). It is now not migrated,
 * `rejected-since-fixed`, and `migrate --incremental --detect-changes` writes it (and forgets
 * its reject, which stayed in hybrid_migrate.rejects and was counted by status); a reject that
 * still fails stays a reject.
 */
import { describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { insertSimpleOrders } from '../support/simple-orders.js';

const t = useTestDatabases();

type VerifyJson = { ok: boolean; collections: { name: string; rejected: number; notMigrated: number; missingRows: { sourceKey: string; reason: string }[] }[] };

describe('verify re-checks rejected documents', () => {
  it('one of two rejects fixed in MongoDB: not migrated (rejected-since-fixed), then written by --detect-changes', async () => {
    await insertSimpleOrders(t.db, 20, { badEvery: 10 });
    const env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
    const migrate = await runCli(['migrate', 'workspaces', 'orders', '--json'], env);
    expect(migrate.code, migrate.stderr).toBe(0);
    const before = await runCli(['verify', 'orders', '--no-report', '--json'], env);
    expect(before.code, before.stdout + before.stderr).toBe(0);
    expect((JSON.parse(before.stdout) as VerifyJson).collections[0]).toMatchObject({ rejected: 2, notMigrated: 0 });

    // The first bad order is fixed; no updatedAt changes.
    const bad = await t.db.collection('orders').find({ status: 'not-a-status' }).sort({ _id: 1 }).toArray();
    expect(bad).toHaveLength(2);
    await t.db.collection('orders').updateOne({ _id: bad[0]?._id }, { $set: { status: 'pending' } });
    const after = await runCli(['verify', 'orders', '--no-report', '--json'], env);
    expect(after.code, after.stdout + after.stderr).toBe(1);
    const c = (JSON.parse(after.stdout) as VerifyJson).collections[0];
    expect(c).toMatchObject({ rejected: 1, notMigrated: 1 });
    expect(c?.missingRows).toEqual([expect.objectContaining({ sourceKey: `oid:${bad[0]?._id.toHexString()}`, reason: 'rejected-since-fixed' })]);

    const sync = await runCli(['migrate', 'orders', '--incremental', '--detect-changes', '--json'], env);
    expect(sync.code, sync.stderr).toBe(0);
    const last = await runCli(['verify', 'orders', '--no-report', '--json'], env);
    expect(last.code, last.stdout + last.stderr).toBe(0);
    expect((JSON.parse(last.stdout) as VerifyJson).collections[0]).toMatchObject({ rejected: 1, notMigrated: 0 });
    // The reject of the document written since is gone (it stayed, and status counted it).
    const rejects = await t.pg.query<{ source_key: string }>(`SELECT source_key FROM hybrid_migrate.rejects WHERE collection = 'orders'`);
    expect(rejects.rows).toEqual([{ source_key: `oid:${bad[1]?._id.toHexString()}` }]);
  }, 120_000);
});
