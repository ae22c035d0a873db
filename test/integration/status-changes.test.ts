/**
 * status and changes no updatedAt shows (issue 18, item 6): a collection whose documents have
 * no date in `updatedAt` is unknown for Phase 3 until a change-detecting pass has completed
 * after the migration last wrote it. And (issue 16) status lists the rows the application
 * deleted since migration: count, and samples naming the table and the row.
 */
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { runCli } from '../support/cli.js';
import { migrateSimpleOrders } from '../support/crash-checks.js';
import { childUuid, objectIdToUuid } from '../../src/core/ids.js';

const t = useTestDatabases();
let env: { MONGO_URI: string; DATABASE_URL: string };
let ids: ObjectId[];

beforeAll(async () => {
  ({ env, ids } = await migrateSimpleOrders(t, 12));
});

interface StatusJson {
  name: string;
  changeDetection: { withoutUpdatedAt: number; checkedUpTo: string | null; passCompletedAt: string | null; lastMigrationWrite: string | null };
  deletedByApplication: { count: number; samples: { sourceKey: string; table: string; row: string }[] };
  readyForPhase3: { ready: boolean | null; blockers: string[]; unknown: string[] };
}

async function status(): Promise<StatusJson> {
  const r = await runCli(['--json', 'status', 'orders'], env);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout).collections as StatusJson[])[0] as StatusJson;
}

const detectChanges = async () => expect((await runCli(['migrate', '--incremental', '--detect-changes', 'orders'], env)).code).toBe(0);
const unseen = (s: StatusJson) => s.readyForPhase3.unknown.filter((u) => u.includes('--detect-changes'));

describe('status: collections without a usable updatedAt', () => {
  it('is unknown for Phase 3 until a change-detecting pass completed after the last write, naming the command', async () => {
    const before = await status();
    expect(before.changeDetection).toMatchObject({ withoutUpdatedAt: 12, checkedUpTo: null, passCompletedAt: null });
    expect(before.readyForPhase3.ready).not.toBe(true);
    expect(unseen(before)).toEqual([expect.stringContaining('hybrid-migrate migrate --incremental --detect-changes orders')]);
    expect(unseen(before)[0]).toContain('12 documents without a date in "updatedAt"');

    await detectChanges();
    const after = await status();
    expect(after.changeDetection.checkedUpTo).not.toBeNull();
    expect(unseen(after)).toEqual([]);

    // The migration writes the collection again (a new document, by the plain sync): unknown again.
    await t.db.collection('orders').insertOne({ _id: new ObjectId(), workspaceId: (await t.db.collection('orders').findOne({}))?.workspaceId, clientName: 'New', status: 'pending', items: [], statusHistory: [], createdAt: new Date() });
    const sync = await runCli(['--json', 'migrate', '--incremental', 'orders'], env);
    expect(JSON.parse(sync.stdout).collections[0].migrated).toBe(1);
    const written = await status();
    expect(Date.parse(written.changeDetection.lastMigrationWrite as string)).toBeGreaterThan(Date.parse(written.changeDetection.passCompletedAt as string));
    expect(unseen(written)).toEqual([expect.stringContaining('since the migration last wrote this collection')]);

    const human = await runCli(['status', 'orders'], env);
    expect(human.stdout).toContain('without a date in "updatedAt": their changes are found only by migrate --incremental --detect-changes');
    expect(human.stdout).toContain('last change-detecting pass: every change before');
  });
});

describe('status: rows deleted by the application', () => {
  it('counts main and child rows the application deleted, with the table and the row', async () => {
    expect((await status()).deletedByApplication).toEqual({ count: 0, samples: [] });
    const gone = objectIdToUuid(ids[3] as ObjectId);
    const parent = objectIdToUuid(ids[8] as ObjectId);
    await t.pg.query(`DELETE FROM orders WHERE id = $1`, [gone]);
    await t.pg.query(`DELETE FROM order_items WHERE order_id = $1 AND position = 0`, [parent]);
    const s = await status();
    expect(s.deletedByApplication.count).toBe(2);
    expect(s.deletedByApplication.samples).toEqual(
      expect.arrayContaining([
        { sourceKey: `oid:${(ids[3] as ObjectId).toHexString()}`, table: 'orders', row: gone },
        { sourceKey: `oid:${(ids[8] as ObjectId).toHexString()}`, table: 'order_items', row: childUuid(parent, 'OrderItem', 0) },
      ]),
    );
    const human = await runCli(['status', 'orders'], env);
    expect(human.stdout).toContain('2 row(s) the migration wrote were deleted by the application since');
    expect(human.stdout).toContain(`order_items ${childUuid(parent, 'OrderItem', 0)}`);
  });
});
