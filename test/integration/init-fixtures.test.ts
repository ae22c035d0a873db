/**
 * Issue 20 acceptance on the customer's model: the fixture generator's legacy data (numbers
 * as text, dates as strings, orphan references, the workspace/user cycle, old single-product
 * orders…) → `init` → apply its SQL to an empty database → `plan` → `migrate` → `verify`,
 * all exit 0 with no hand edit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { expectPipelineOk, runInitPipeline, type PipelineRun } from '../support/init-pipeline.js';
import { generateFixtures } from '../../dev/fixtures/generate.js';

const t = useTestDatabases();
let run: PipelineRun;

beforeAll(async () => {
  await generateFixtures({ db: t.db, scale: 150, seed: 6, realMongo: t.isRealMongo });
  run = await runInitPipeline(t.mongoUri, t.mongoDbName);
}, 300_000);

afterAll(async () => {
  await run?.drop();
});

describe('init on the customer fixtures', () => {
  it('init → apply → plan → migrate → verify all exit 0, with no hand edit', () => {
    expectPipelineOk(run);
  });

  it('drafts the references the customer schema has: orders → clients, order items → products, the workspace/user cycle', () => {
    const s = run.schema;
    expect(s).toMatch(/model OrderItem \{/);
    expect(s).toMatch(/model OrderStatusHistory \{/);
    expect(s).toMatch(/@relation\("Order_clientId", fields: \[clientId\], references: \[id\]\)/);
    expect(s).toMatch(/@relation\("OrderItem_productId", fields: \[productId\], references: \[id\]\)/);
    expect(s).toMatch(/@relation\("User_workspaceId", fields: \[workspaceId\], references: \[id\]\)/);
  });

  it('migrated every order, and rejected nothing', async () => {
    const orders = await t.db.collection('orders').countDocuments();
    const rows = await run.pg.query(`SELECT count(*)::int AS n FROM orders`);
    expect(rows.rows[0].n).toBe(orders);
    const rejects = await run.pg.query(`SELECT collection, field_path, reason FROM hybrid_migrate.rejects`);
    expect(rejects.rows).toEqual([]);
  });
});
