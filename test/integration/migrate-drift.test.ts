/** migrate compares what it reads with the latest plan and warns when the source drifted since. */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { insertSimpleOrders } from '../support/simple-orders.js';

const t = useTestDatabases();
let env: { MONGO_URI: string; DATABASE_URL: string };
let ws: ObjectId;

beforeAll(async () => {
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
  ws = await insertSimpleOrders(t.db, 50);
});

describe('drift since the plan', () => {
  it('warns about a field added after the plan, and stays quiet without drift', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-plan-'));
    const plan = await runCli(['plan', 'workspaces', 'orders', '--out', dir], env);
    expect([0, 1], plan.stderr).toContain(plan.code);
    const quiet = await runCli(['migrate', 'workspaces', 'orders', '--dry-run', '--plan', join(dir, 'plan-latest.json'), '--json'], env);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(JSON.parse(quiet.stdout).collections.flatMap((c: { driftWarnings: string[] }) => c.driftWarnings)).toEqual([]);

    await t.db.collection('orders').insertOne({ workspaceId: ws, status: 'pending', items: [], promoCode: 'BLACKFRIDAY', createdAt: new Date() });
    const r = await runCli(['migrate', 'workspaces', 'orders', '--plan', join(dir, 'plan-latest.json'), '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const orders = JSON.parse(r.stdout).collections.find((c: { name: string }) => c.name === 'orders');
    expect(orders.driftWarnings).toHaveLength(1);
    expect(orders.driftWarnings[0]).toMatch(/promoCode/);
    expect(r.stderr).toMatch(/source drifted since the plan/);
    // The run keeps the customer's watch list: requests, errors and response times per database.
    const run = await t.pg.query(`SELECT summary->'metrics' AS m FROM hybrid_migrate.runs WHERE id = $1`, [JSON.parse(r.stdout).runId]);
    expect(run.rows[0]?.m?.mongodb?.requests).toBeGreaterThan(0);
    expect(run.rows[0]?.m?.postgresql?.requests).toBeGreaterThan(0);
  });

  it('migrate --dry-run --report writes the Markdown and HTML report of what would happen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-report-'));
    const r = await runCli(['migrate', 'workspaces', 'orders', '--dry-run', '--report', dir], env);
    expect(r.code, r.stderr).toBe(0);
    const html = /report: (\S+\.html)/.exec(r.stderr)?.[1];
    expect(html && html.startsWith(dir)).toBe(true);
    expect(readFileSync(html as string, 'utf8')).toMatch(/orders/);
    expect(readdirSync(dir).some((f) => f.endsWith('.md'))).toBe(true);
  });
});
