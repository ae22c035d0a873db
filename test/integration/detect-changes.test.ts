/**
 * Issue 18, item 6: documents changed in MongoDB without an `updatedAt` (the simple orders
 * have none) are never seen by `migrate --incremental`; `--detect-changes` finds them in one
 * ordered `_id` pass comparing each document's fingerprint with the one recorded at
 * migration, keeps rows the application changed (conflict recorded), resumes an interrupted
 * pass after its last committed batch, and records when a pass completed.
 */
import type { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { runCli } from '../support/cli.js';
import { migrateSimpleOrders } from '../support/crash-checks.js';
import { objectIdToUuid } from '../../src/core/ids.js';

const t = useTestDatabases();
let env: { MONGO_URI: string; DATABASE_URL: string };
let ids: ObjectId[];

beforeAll(async () => {
  ({ env, ids } = await migrateSimpleOrders(t, 30));
});

interface PassJson {
  name: string;
  status: string;
  read: number;
  written: number;
  unchanged: number;
  skippedModified: number;
  resumed: boolean;
  checkedUpTo: string | null;
}

async function detect(extra: string[] = [], more: Record<string, string> = {}): Promise<{ code: number | null; pass?: PassJson; json?: Record<string, unknown> }> {
  const r = await runCli(['--json', 'migrate', '--incremental', '--detect-changes', 'orders', ...extra], { ...env, ...more });
  if (r.code !== 0) return { code: r.code };
  const json = JSON.parse(r.stdout) as Record<string, unknown>;
  const pass = ((json.changeDetection as { collections: PassJson[] }).collections)[0] as PassJson;
  return { code: 0, pass, json };
}

const rename = (i: number, name: string) => t.db.collection('orders').updateOne({ _id: ids[i] as ObjectId }, { $set: { clientName: name } });
const clientOf = async (i: number) => (await t.pg.query(`SELECT client_name FROM orders WHERE id = $1`, [objectIdToUuid(ids[i] as ObjectId)])).rows[0]?.client_name as string;
const checkedAt = async () => (await t.pg.query<{ c: Date | null }>(`SELECT changes_checked_at AS c FROM hybrid_migrate.sync_state WHERE collection = 'orders'`)).rows[0]?.c ?? null;

describe('migrate --incremental --detect-changes', () => {
  it('refuses --detect-changes without --incremental (exit 2)', async () => {
    const r = await runCli(['migrate', '--detect-changes', 'orders'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--detect-changes works with --incremental');
    const dry = await runCli(['migrate', '--incremental', '--detect-changes', '--dry-run', 'orders'], env);
    expect(dry.code).toBe(2);
    expect(dry.stderr).toContain('--detect-changes cannot be combined with --dry-run');
  });

  it('syncs documents changed without updatedAt, which the plain incremental sync never sees', async () => {
    await rename(4, 'Changed 4');
    await rename(17, 'Changed 17');
    const plain = await runCli(['--json', 'migrate', '--incremental', 'orders'], env);
    expect(plain.code, plain.stderr).toBe(0);
    expect(await clientOf(4)).toBe('Client 4');

    const before = new Date();
    const { code, pass } = await detect();
    expect(code).toBe(0);
    expect(pass).toMatchObject({ name: 'orders', status: 'checked', read: 30, written: 2, unchanged: 28, skippedModified: 0, resumed: false });
    expect(await clientOf(4)).toBe('Changed 4');
    expect(await clientOf(17)).toBe('Changed 17');
    const checked = await checkedAt();
    expect(checked?.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
    expect(new Date(pass?.checkedUpTo as string).getTime()).toBe(checked?.getTime());
  });

  it('writes nothing when nothing changed, and records the newer pass', async () => {
    const previous = await checkedAt();
    const { pass, json } = await detect();
    expect(pass).toMatchObject({ status: 'checked', read: 30, written: 0, unchanged: 30 });
    expect((json?.changeDetection as { wrote: boolean }).wrote).toBe(false);
    expect((await checkedAt())?.getTime()).toBeGreaterThan(previous?.getTime() ?? Infinity);
    const human = await runCli(['migrate', '--incremental', '--detect-changes', 'orders'], env);
    expect(human.stdout).toContain('Change detection (one _id pass, fingerprints compared with those recorded at migration)');
    expect(human.stdout).toMatch(/orders\s+checked\s+30\s+0\s+30\s+0\s+0/);
    expect(human.stdout).toMatch(/orders: every change made in MongoDB before \d{4}-\d\d-\d\dT[\d:.]+Z is synced/);
  });

  it('keeps a row the application changed, and records the conflict', async () => {
    const uuid = objectIdToUuid(ids[9] as ObjectId);
    await t.pg.query(`UPDATE orders SET client_name = 'APP EDIT' WHERE id = $1`, [uuid]);
    await rename(9, 'Mongo edit 9');
    const { pass } = await detect();
    expect(pass).toMatchObject({ written: 0, skippedModified: 1 });
    expect(await clientOf(9)).toBe('APP EDIT');
    const conflicts = await t.pg.query(`SELECT kind FROM hybrid_migrate.conflicts WHERE collection = 'orders' AND uuid = $1`, [uuid]);
    expect(conflicts.rows.map((r) => r.kind)).toEqual(['modified-by-application']);
  });

  it('resumes an interrupted pass after its last committed batch', async () => {
    const checkedBefore = await checkedAt();
    await rename(3, 'Before kill 3');
    await rename(25, 'Before kill 25');
    // Killed right after the second batch of 10 committed: ids 0-19 checked, 20-29 not yet.
    const killed = await runCli(['migrate', '--incremental', '--detect-changes', 'orders', '--batch-size', '10'], { ...env, HYBRID_MIGRATE_FAULT: 'migrate:after-commit:2' });
    expect(killed.signal).toBe('SIGKILL');
    expect(await clientOf(3)).toBe('Before kill 3');
    expect(await clientOf(25)).toBe('Client 25');
    expect((await checkedAt())?.getTime()).toBe(checkedBefore?.getTime());

    const { pass } = await detect(['--batch-size', '10']);
    expect(pass).toMatchObject({ status: 'checked', resumed: true, read: 10, written: 1 });
    expect(await clientOf(25)).toBe('Before kill 25');
    expect((await checkedAt())?.getTime()).toBeGreaterThan(checkedBefore?.getTime() ?? Infinity);
  });
});
