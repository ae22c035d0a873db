/**
 * plan and migrate --dry-run predict what migrate does when an earlier run rejected documents
 * that this one refers to: such a document is in MongoDB but never arrives in PostgreSQL (migrate
 * does not write it again), so references to it dangle. Before, both predictions found it in
 * the source: plan said no reject where migrate rejected every order of that workspace (found
 * by a black-box run: plan 19, dry run 13, migrate 78 rejects).
 */
import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { insertSimpleOrders } from '../support/simple-orders.js';

const t = useTestDatabases();

type PlanJson = { collections: { name: string; rejects: { documents: number } }[] };
type MigrateJson = { collections: { name: string; rejected: number; migrated: number }[] };

describe('predictions count what earlier runs rejected', () => {
  it('orders of a workspace rejected by an earlier run: plan, the dry run and migrate agree', async () => {
    await insertSimpleOrders(t.db, 10);
    // A workspace without its required name (rejected) and 4 orders of it.
    const broken = new ObjectId();
    await t.db.collection('workspaces').insertOne({ _id: broken, slug: 'no-name', currency: 'XOF', createdAt: new Date('2020-01-01T00:00:00Z') });
    await insertSimpleOrders(t.db, 4, { workspaceId: broken });
    const env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
    const first = await runCli(['migrate', 'workspaces', '--json'], env);
    expect(first.code, first.stderr).toBe(0);
    expect((JSON.parse(first.stdout) as MigrateJson).collections[0]).toMatchObject({ migrated: 1, rejected: 1 });

    const plan = await runCli(['plan', 'orders', '--json'], env);
    const planned = (JSON.parse(plan.stdout) as PlanJson).collections.find((c) => c.name === 'orders');
    const dry = await runCli(['migrate', 'orders', '--dry-run', '--json'], env);
    expect(dry.code, dry.stderr).toBe(0);
    const predicted = (JSON.parse(dry.stdout) as MigrateJson).collections.find((c) => c.name === 'orders');
    const run = await runCli(['migrate', 'orders', '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const actual = (JSON.parse(run.stdout) as MigrateJson).collections.find((c) => c.name === 'orders');
    expect(actual).toMatchObject({ migrated: 10, rejected: 4 });
    expect(predicted?.rejected).toBe(4);
    expect(planned?.rejects.documents).toBe(4);
  }, 120_000);
});
