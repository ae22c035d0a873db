/**
 * The state store's run records (hybrid_migrate.runs): every run that changes anything has its
 * row, and no row stays 'running' once its run is over — killed with kill -9, failed, or one
 * whose only change was a conflict or a deleted document.
 */
import { describe, expect, it } from 'vitest';
import { ObjectId } from 'mongodb';
import { runCli } from '../support/cli.js';
import { withOrders } from '../support/crash-checks.js';
import type { TestDatabases } from '../support/databases.js';
import { uuidToObjectId } from '../../src/core/ids.js';

async function runs(db: TestDatabases): Promise<{ id: string; status: string; command: string }[]> {
  const r = await db.pg.query<{ id: string; status: string; command: string }>(`SELECT id::text, status, command FROM hybrid_migrate.runs ORDER BY started_at`);
  return r.rows;
}

describe('run records', () => {
  it('a migrate killed with kill -9 is marked abandoned by the next run that takes its collections', async () => {
    await withOrders(1500, async (db, env) => {
      const killed = await runCli(['migrate', '--skip-missing-collections', '--batch-size', '250'], { ...env, HYBRID_MIGRATE_FAULT: 'migrate:after-commit:2' });
      expect(killed.signal).toBe('SIGKILL');
      expect((await runs(db)).map((r) => r.status)).toEqual(['running']);
      const rerun = await runCli(['migrate', '--skip-missing-collections', '--batch-size', '250', '--json'], env);
      expect(rerun.code, rerun.stderr).toBe(0);
      const after = await runs(db);
      expect(after.map((r) => r.status)).toEqual(['abandoned', 'done']);
      expect(after[1]?.id).toBe(JSON.parse(rerun.stdout).runId);
    });
  });

  it('a run whose only change is a conflict has its record, and the conflict names it', async () => {
    await withOrders(50, async (db, env) => {
      expect((await runCli(['migrate', '--skip-missing-collections'], env)).code).toBe(0);
      const before = (await runs(db)).length;
      const edited = await db.pg.query<{ id: string }>(`UPDATE orders SET notes = 'edited by the application' WHERE id = (SELECT id FROM orders ORDER BY id LIMIT 1) RETURNING id::text`);
      const oid = new ObjectId(uuidToObjectId(edited.rows[0]?.id as string) as string);
      await db.db.collection('orders').updateOne({ _id: oid }, { $set: { clientName: 'changed in MongoDB', updatedAt: new Date() } });
      const sync = await runCli(['migrate', 'orders', '--incremental', '--json'], env);
      expect(sync.code, sync.stderr).toBe(0);
      const out = JSON.parse(sync.stdout);
      expect(out.collections[0]).toMatchObject({ migrated: 0, skippedModified: 1 });
      expect(out.wrote).toBe(true);
      const conflicts = await db.pg.query<{ run_id: string; kind: string }>(`SELECT run_id::text, kind FROM hybrid_migrate.conflicts`);
      expect(conflicts.rows).toEqual([{ run_id: out.runId, kind: 'modified-by-application' }]);
      const all = await runs(db);
      expect(all.length).toBe(before + 1);
      expect(all.at(-1)).toMatchObject({ id: out.runId, status: 'done' });
    });
  });

  it('a --detect-deletes run that only deletes has its record and says it wrote', async () => {
    await withOrders(40, async (db, env) => {
      expect((await runCli(['migrate', '--skip-missing-collections'], env)).code).toBe(0);
      const gone = await db.db.collection('orders').find({}, { projection: { _id: 1 } }).limit(3).toArray();
      await db.db.collection('orders').deleteMany({ _id: { $in: gone.map((d) => d._id) } });
      const sync = await runCli(['migrate', 'orders', '--incremental', '--detect-deletes', '--json'], env);
      expect(sync.code, sync.stderr).toBe(0);
      const out = JSON.parse(sync.stdout);
      expect(out.collections[0]).toMatchObject({ deletedInSource: 3 });
      expect(out.wrote).toBe(true);
      expect((await runs(db)).at(-1)).toMatchObject({ id: out.runId, status: 'done' });
      const left = await db.pg.query(`SELECT count(*)::int AS n FROM orders`);
      expect(left.rows[0]).toEqual({ n: 37 });
    });
  });

  it('a run that fails records "failed" with the summaries of the collections that finished, never "running"', async () => {
    await withOrders(30, async (db, env) => {
      // A failure that is not about one row's data (so it is not isolated as a reject): the table refuses every write.
      await db.pg.query(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'writes refused for the test' USING ERRCODE = 'P0001'; END $$`);
      await db.pg.query(`CREATE TRIGGER refuse_orders BEFORE INSERT ON orders FOR EACH STATEMENT EXECUTE FUNCTION refuse()`);
      const r = await runCli(['migrate', 'workspaces', 'orders'], env);
      expect(r.code).toBe(6);
      const rows = await db.pg.query<{ status: string; finished: boolean; summary: { collections: { name: string; migrated: number }[]; error: string } }>(
        `SELECT status, finished_at IS NOT NULL AS finished, summary FROM hybrid_migrate.runs`,
      );
      expect(rows.rows).toHaveLength(1);
      expect(rows.rows[0]).toMatchObject({ status: 'failed', finished: true });
      expect(rows.rows[0]?.summary.collections).toEqual([expect.objectContaining({ name: 'workspaces', migrated: 1 })]);
      expect(rows.rows[0]?.summary.error).toMatch(/writes refused for the test/);
    });
  });
});
