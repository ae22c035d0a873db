/**
 * A target remembers which MongoDB database it is migrated from. Pointed at another existing
 * database with the same collections (staging for production), `migrate --incremental
 * --detect-deletes` took every document missing there for deleted and removed 38,843 rows,
 * exit 0 (found by a black-box run). Now migrate (dry run included) and verify refuse another
 * database than the recorded one (exit 3) before anything is written; --accept-source records
 * a source that really moved.
 */
import { describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { insertSimpleOrders } from '../support/simple-orders.js';

const t = useTestDatabases();

describe('the source database a target is migrated from', () => {
  it('another database is refused by migrate, its dry run and verify; nothing is deleted; --accept-source records it', async () => {
    await insertSimpleOrders(t.db, 20);
    const env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
    expect((await runCli(['migrate', 'workspaces', 'orders'], env)).code).toBe(0);
    const meta = await t.pg.query(`SELECT value FROM hybrid_migrate.meta WHERE key = 'source_database'`);
    expect(meta.rows).toEqual([{ value: t.mongoDbName }]);

    // Staging: an existing database with the same collections and fewer orders.
    const stagingName = `${t.mongoDbName}_stg`;
    const staging = t.db.client.db(stagingName);
    try {
      await insertSimpleOrders(staging, 3);
      const wrong = { ...env, MONGO_URI: mongoUriFor(t.mongoUri, stagingName) };
      for (const args of [['migrate', '--incremental', '--detect-deletes', 'workspaces', 'orders'], ['migrate', '--dry-run', 'orders'], ['verify', '--no-report']]) {
        const r = await runCli(args, wrong);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(3);
        expect(r.stderr).toContain(`this target was migrated from MongoDB database "${t.mongoDbName}", and MONGO_URI (or --mongo-db) names "${stagingName}"`);
        expect(r.stderr).toContain('--accept-source');
      }
      expect((await t.pg.query(`SELECT count(*)::int AS n FROM orders`)).rows[0].n).toBe(20);

      const moved = await runCli(['migrate', '--accept-source', 'workspaces', 'orders', '--dry-run'], wrong);
      expect(moved.code, moved.stderr).toBe(0);
      // A dry run records nothing.
      expect((await t.pg.query(`SELECT value FROM hybrid_migrate.meta WHERE key = 'source_database'`)).rows).toEqual([{ value: t.mongoDbName }]);
      expect((await runCli(['migrate', '--accept-source', '--incremental', 'workspaces', 'orders'], wrong)).code).toBe(0);
      expect((await t.pg.query(`SELECT value FROM hybrid_migrate.meta WHERE key = 'source_database'`)).rows).toEqual([{ value: stagingName }]);
    } finally {
      await staging.dropDatabase();
    }
  }, 120_000);
});
