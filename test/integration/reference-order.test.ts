/**
 * A collection migrated before a collection it refers to, which is in MongoDB but not migrated
 * yet: migrate looks references up in the target, so an optional reference became an orphan
 * (NULL, kept in $orphans) and a required one rejected its document, for every document — and
 * neither the plain sync nor a rerun writes them again (found by black-box runs: 1,482 comment
 * user_ids NULL after `migrate comments` before users; 3,000 of 3,000 orders rejected by
 * `migrate orders` before workspaces, verify then saying "agree"). Now a required reference is
 * refused before anything is written (exit 3), an optional one is a warning, both with the fix.
 */
import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { insertSimpleOrders } from '../support/simple-orders.js';

const t = useTestDatabases();

describe('a collection migrated before a collection it refers to', () => {
  it('plan and migrate warn (HM_REFERENCED_NOT_MIGRATED) naming both and the command; not once the referenced one is migrated', async () => {
    const ws = await insertSimpleOrders(t.db, 5);
    const env0 = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
    // orders.workspaceId is required: refused, nothing written.
    const refused = await runCli(['migrate', 'orders'], env0);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(/orders refers to workspaces \(workspaceId\), which is neither migrated yet nor in this run: every document holding such a reference would be rejected/);
    expect((await t.pg.query(`SELECT count(*)::int AS n FROM orders`)).rows[0].n).toBe(0);
    const client = new ObjectId();
    await t.db.collection('clients').insertOne({ _id: client, workspaceId: ws, name: 'Awa', phone: '+221770000000', createdAt: new Date('2021-01-01T00:00:00Z') });
    await t.db.collection('orders').updateMany({}, { $set: { clientId: client } });
    const env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
    expect((await runCli(['migrate', 'workspaces'], env)).code).toBe(0);

    const plan = await runCli(['plan', 'orders'], env);
    expect(plan.stderr).toMatch(/orders refers to clients \(clientId\), which is neither migrated yet nor in this run.*hybrid-migrate migrate clients orders/);
    const early = await runCli(['migrate', 'orders', '--dry-run'], env);
    expect(early.code, early.stderr).toBe(0);
    expect(early.stderr).toMatch(/HM_REFERENCED_NOT_MIGRATED|orders refers to clients/);

    expect((await runCli(['migrate', 'clients'], env)).code).toBe(0);
    const late = await runCli(['migrate', 'orders'], env);
    expect(late.code, late.stderr).toBe(0);
    expect(late.stderr).not.toMatch(/refers to clients/);
    // users has no document at all (a misspelt references: would look the same): said, never refused.
    expect(late.stderr).toMatch(/orders refers to users \([^)]*\), which has no document in MongoDB and no row migrated: each such reference would be an orphan/);
  }, 120_000);
});
