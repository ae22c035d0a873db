/**
 * plan says which collections have no usable `updatedAt` for the incremental sync (issue 18,
 * item 6): missing, and not maintained (documents changed since the migration wrote them whose
 * updatedAt is no later than that write), and recommends --detect-changes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { runCli } from '../support/cli.js';
import { migrateSimpleOrders } from '../support/crash-checks.js';

const t = useTestDatabases();
let env: { MONGO_URI: string; DATABASE_URL: string };
let ids: ObjectId[];
const outDir = mkdtempSync(join(tmpdir(), 'hm-plan-updated-at-'));

beforeAll(async () => {
  ({ env, ids } = await migrateSimpleOrders(t, 10));
});

interface UpdatedAtJson {
  field: string;
  usable: boolean;
  comparedWithMigration: boolean;
  missing: { count: number; sampleIds: string[] };
  notDate: { count: number; sampleIds: string[] };
  notMaintained: { count: number; sampleIds: string[] };
}

async function plan(): Promise<{ updatedAt: UpdatedAtJson; human: string }> {
  const r = await runCli(['plan', 'orders', '--json', '--out', outDir], env);
  expect(r.stdout, r.stderr).toContain('"collections"');
  const orders = (JSON.parse(r.stdout).collections as { name: string; updatedAt: UpdatedAtJson }[]).find((c) => c.name === 'orders');
  const h = await runCli(['plan', 'orders', '--out', outDir], env);
  return { updatedAt: orders?.updatedAt as UpdatedAtJson, human: h.stdout };
}

const oid = (i: number) => `oid:${(ids[i] as ObjectId).toHexString()}`;

describe('plan: usable updatedAt', () => {
  it('reports a missing updatedAt and recommends --detect-changes', async () => {
    const { updatedAt, human } = await plan();
    expect(updatedAt).toMatchObject({ field: 'updatedAt', usable: false, missing: { count: 10 }, notDate: { count: 0 }, notMaintained: { count: 0 } });
    expect(updatedAt.missing.sampleIds[0]).toBe(oid(0));
    expect(human).toContain('No usable "updatedAt" for the incremental sync');
    expect(human).toContain('missing in 10 document(s)');
    expect(human).toContain('hybrid-migrate migrate --incremental --detect-changes orders');
  });

  it('reports an updatedAt that is not maintained: documents changed since migration without a newer value', async () => {
    await t.db.collection('orders').updateMany({}, { $set: { updatedAt: new Date('2020-06-01T00:00:00Z') } });
    const restart = await runCli(['migrate', 'orders', '--restart'], env);
    expect(restart.code, restart.stderr).toBe(0);
    const clean = await plan();
    expect(clean.updatedAt).toMatchObject({ usable: true, comparedWithMigration: true, missing: { count: 0 }, notMaintained: { count: 0 } });
    expect(clean.human).not.toContain('No usable "updatedAt"');

    // Changed without touching updatedAt: not maintained. Changed with a newer updatedAt: fine.
    await t.db.collection('orders').updateOne({ _id: ids[2] as ObjectId }, { $set: { clientName: 'silently changed' } });
    await t.db.collection('orders').updateOne({ _id: ids[5] as ObjectId }, { $set: { clientName: 'properly changed', updatedAt: new Date(Date.now() + 5000) } });
    const { updatedAt, human } = await plan();
    expect(updatedAt).toMatchObject({ usable: false, missing: { count: 0 }, notMaintained: { count: 1, sampleIds: [oid(2)] } });
    expect(human).toContain('not maintained: 1 document(s) changed since they were migrated');
  });

  it('reports an updatedAt that is not a date', async () => {
    await t.db.collection('orders').updateOne({ _id: ids[7] as ObjectId }, { $set: { updatedAt: '2021-01-01' } });
    const { updatedAt } = await plan();
    expect(updatedAt.notDate).toEqual({ count: 1, sampleIds: [oid(7)] });
  });
});
