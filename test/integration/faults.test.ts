/**
 * Crash safety at the points a random kill rarely hits, the way Kafka Connect's exactly-once
 * tests do it: the process kills itself with SIGKILL inside a COPY, between the last write
 * and COMMIT, and right after COMMIT (HYBRID_MIGRATE_FAULT), of migrate, incremental sync and
 * rollback. After a rerun: exact counts, no duplicate, nothing missing, the registry one to
 * one, and verify clean. Also: five concurrent runs on one collection, and a lost
 * PostgreSQL connection.
 */
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../support/cli.js';
import { expectExact, withOrders } from '../support/crash-checks.js';

const DOCS = 3000;

describe('kill -9 at fixed points of migrate', () => {
  for (const fault of ['migrate:mid-copy:2', 'migrate:before-commit:3', 'migrate:after-commit:4']) {
    it(`${fault}: the rerun ends with exactly the source documents`, async () => {
      await withOrders(DOCS, async (db, env) => {
        const killed = await runCli(['migrate', '--skip-missing-collections', '--batch-size', '250'], { ...env, HYBRID_MIGRATE_FAULT: fault });
        expect(killed.signal).toBe('SIGKILL');
        const partial = await db.pg.query<{ n: number; written: number }>(
          `SELECT (SELECT count(*)::int FROM orders) AS n, (SELECT coalesce(sum(docs_written), 0)::int FROM hybrid_migrate.checkpoints WHERE collection = 'orders') AS written`,
        );
        // The checkpoint is never ahead of or behind the data.
        expect(partial.rows[0]?.n).toBe(partial.rows[0]?.written);
        expect(partial.rows[0]?.n).toBeLessThan(DOCS);
        const rerun = await runCli(['migrate', '--skip-missing-collections', '--batch-size', '250'], env);
        expect(rerun.code, rerun.stderr).toBe(0);
        await expectExact(db, env);
      });
    });
  }
});

describe('kill -9 at fixed points of an incremental sync and of a rollback', () => {
  it('incremental, killed before a commit: the rerun brings every change', async () => {
    await withOrders(DOCS, async (db, env) => {
      expect((await runCli(['migrate', '--skip-missing-collections'], env)).code).toBe(0);
      await db.db.collection('orders').updateMany({}, { $set: { clientName: 'changed', updatedAt: new Date() } });
      const killed = await runCli(['migrate', 'orders', '--incremental', '--batch-size', '500'], { ...env, HYBRID_MIGRATE_FAULT: 'migrate:before-commit:3' });
      expect(killed.signal).toBe('SIGKILL');
      const rerun = await runCli(['migrate', 'orders', '--incremental', '--batch-size', '500'], env);
      expect(rerun.code, rerun.stderr).toBe(0);
      const changed = await db.pg.query(`SELECT count(*)::int AS n FROM orders WHERE client_name = 'changed'`);
      expect(changed.rows[0]).toEqual({ n: DOCS });
      await expectExact(db, env);
    });
  }, 300_000); // FerretDB updates the 3,000 documents one by one, each a collection scan: over 100 s on a loaded CI machine

  it('rollback, killed mid-batch: the rerun reaches the same end state and a third deletes nothing', async () => {
    await withOrders(DOCS, async (db, env) => {
      expect((await runCli(['migrate', '--skip-missing-collections'], env)).code).toBe(0);
      const killed = await runCli(['rollback', 'orders', '--batch-size', '400'], { ...env, HYBRID_MIGRATE_FAULT: 'rollback:mid-batch:3' });
      expect(killed.signal).toBe('SIGKILL');
      const mid = await db.pg.query<{ orders: number; items: number; mapped: number }>(
        `SELECT (SELECT count(*)::int FROM orders) AS orders, (SELECT count(*)::int FROM order_items) AS items, (SELECT count(*)::int FROM hybrid_migrate.id_map WHERE collection = 'orders') AS mapped`,
      );
      // Whole batches only: every remaining order still has its item and its registry entry.
      expect(mid.rows[0]?.orders).toBe(DOCS - 800);
      expect(mid.rows[0]).toMatchObject({ items: mid.rows[0]?.orders, mapped: mid.rows[0]?.orders });
      const rerun = await runCli(['rollback', 'orders', '--json'], env);
      expect(rerun.code, rerun.stderr).toBe(0);
      const after = await db.pg.query(`SELECT (SELECT count(*)::int FROM orders) AS orders, (SELECT count(*)::int FROM order_items) AS items, (SELECT count(*)::int FROM hybrid_migrate.id_map WHERE collection = 'orders') AS mapped`);
      expect(after.rows[0]).toEqual({ orders: 0, items: 0, mapped: 0 });
      const third = await runCli(['rollback', 'orders', '--json'], env);
      expect(third.code, third.stderr).toBe(0);
      expect(JSON.parse(third.stdout).collections[0]).toMatchObject({ deleted: 0 });
    });
  });
});

describe('locks under contention', () => {
  it('five concurrent migrate/incremental/rollback runs: exactly one works, the others exit 5 within 5 s; after kill -9 of the holder the next run starts at once', async () => {
    await withOrders(DOCS, async (db, env) => {
      expect((await runCli(['migrate', 'workspaces'], env)).code).toBe(0);
      // The holder's writes wait on a table lock the test holds, so it still holds the collection
      // when the others start, however fast the source is.
      const blocker = await db.pg.connect();
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE');
      const holder = startCli(['migrate', 'orders', '--batch-size', '20'], env);
      try {
        await new Promise<void>((resolve) => holder.child.stderr?.on('data', (d: Buffer) => d.toString().includes('"collection":"orders"') && resolve()));
        // A run that loads the same configuration and schema and exits 3 (an unknown collection), launched with them:
        // what starting a migrate costs on this machine right now, so only the waiting is measured.
        const [baseline, ...others] = await Promise.all([
          runCli(['migrate', 'no_such_collection'], env),
          runCli(['migrate', 'orders'], env),
          runCli(['migrate', 'orders', '--incremental'], env),
          runCli(['migrate', 'orders', '--incremental', '--detect-deletes'], env),
          runCli(['rollback', 'orders'], env),
        ]);
        for (const o of others) {
          expect(o.code, o.stderr).toBe(5);
          expect(o.ms - (baseline as { ms: number }).ms).toBeLessThan(5000);
          expect((baseline as { code: number }).code).toBe(3);
        }
      } finally {
        await blocker.query('ROLLBACK');
        blocker.release();
      }
      holder.child.kill('SIGKILL');
      await holder.done;
      const next = await runCli(['migrate', 'orders'], env);
      expect(next.code, next.stderr).toBe(0);
      await expectExact(db, env);
    });
  });
});

describe('connection faults', () => {
  it('a PostgreSQL connection killed mid-run: non-zero exit with a clear message, never 0 with rows missing; the next run completes', async () => {
    await withOrders(DOCS, async (db, env) => {
      expect((await runCli(['migrate', 'workspaces'], env)).code).toBe(0);
      const run = startCli(['migrate', 'orders', '--batch-size', '50', '--concurrency', '1'], env);
      await new Promise<void>((resolve) => run.child.stderr?.on('data', (d: Buffer) => d.toString().includes('"collection":"orders"') && resolve()));
      await new Promise((r) => setTimeout(r, 300));
      const dbName = new URL(db.databaseUrl).pathname.slice(1);
      await db.pg.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'hybrid-migrate%' AND pid <> pg_backend_pid()`, [dbName]);
      const r = await run.done;
      if (r.code === 0) {
        // It finished before the kill landed: then it must be complete.
        await expectExact(db, env);
      } else {
        // A lost PostgreSQL session is a lost connection (exit 4), named, like MongoDB's.
        expect(r.code, r.stderr).toBe(4);
        expect(r.stderr).toMatch(/^error: /m);
        expect(r.stderr).toMatch(/^error: .*PostgreSQL/m);
      }
      const next = await runCli(['migrate', 'orders'], env);
      expect(next.code, next.stderr).toBe(0);
      await expectExact(db, env);
    });
  });
});
