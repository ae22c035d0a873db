/**
 * Issue 16, item 3: one document with an `updatedAt` in the future (2099) must not move the
 * incremental cursor past the run's own start: later changes stay visible to --incremental,
 * and the future-dated document itself is still synced when it changes.
 */
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { runCli } from '../support/cli.js';
import { migrateSimpleOrders } from '../support/crash-checks.js';
import { objectIdToUuid } from '../../src/core/ids.js';

const t = useTestDatabases();
let env: { MONGO_URI: string; DATABASE_URL: string };
let ids: ObjectId[];

beforeAll(async () => {
  ({ env, ids } = await migrateSimpleOrders(t, 20));
});

async function incremental(): Promise<Record<string, unknown>> {
  const r = await runCli(['--json', 'migrate', '--incremental', 'orders'], env);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout).collections as Record<string, unknown>[])[0] as Record<string, unknown>;
}

const notesOf = async (id: ObjectId) => (await t.pg.query(`SELECT notes FROM orders WHERE id = $1`, [objectIdToUuid(id)])).rows[0]?.notes;

describe('a document whose updatedAt lies in the future', () => {
  it('never moves the cursor past the run start; later changes and its own changes still arrive', async () => {
    const future = ids[2] as ObjectId;
    const later = ids[7] as ObjectId;
    await t.db.collection('orders').updateOne({ _id: future }, { $set: { notes: 'future 1', updatedAt: new Date('2099-01-01T00:00:00Z') } });
    const startedBefore = new Date();
    // Reported in the summary: how many, and which.
    expect(await incremental()).toMatchObject({ migrated: 1, futureUpdatedAt: { count: 1, sampleIds: [`oid:${future.toHexString()}`] } });
    expect(await notesOf(future)).toBe('future 1');
    const cursor = await t.pg.query<{ c: Date }>(`SELECT cursor_updated_at AS c FROM hybrid_migrate.sync_state WHERE collection = 'orders'`);
    expect((cursor.rows[0]?.c as Date).getTime()).toBeLessThanOrEqual(Date.now());
    expect((cursor.rows[0]?.c as Date).getTime()).toBeGreaterThanOrEqual(startedBefore.getTime() - 60_000);

    // Status reports it too, as a warning, and does not count it as a change the sync missed.
    const status = await runCli(['status', 'orders', '--json'], env);
    const orders = JSON.parse(status.stdout).collections[0];
    expect(orders.futureUpdatedAt).toEqual({ count: 1, sampleIds: [`oid:${future.toHexString()}`] });
    expect(orders.changedSinceLastRun ?? 0).toBe(0);
    expect((await runCli(['status', 'orders'], env)).stdout).toMatch(/1 document\(s\) with "updatedAt" in the future .*oid:[0-9a-f]{24}/);

    // A change made after that run, with an ordinary timestamp, is seen.
    await t.db.collection('orders').updateOne({ _id: later }, { $set: { notes: 'changed now', updatedAt: new Date() } });
    expect(await incremental()).toMatchObject({ migrated: 1 });
    expect(await notesOf(later)).toBe('changed now');

    // The future-dated document changes again (same 2099 timestamp): still synced.
    await t.db.collection('orders').updateOne({ _id: future }, { $set: { notes: 'future 2' } });
    expect(await incremental()).toMatchObject({ migrated: 1 });
    expect(await notesOf(future)).toBe('future 2');
  });
});
