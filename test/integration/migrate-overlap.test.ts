/**
 * A range worker converts batch n+1 while batch n is written. With small batches of a
 * self-referencing collection (each category's parent is the one before it), every batch refers
 * to the batch being written: every reference must still be found (no orphan, no NULL parent),
 * the batches must commit in `_id` order with the checkpoint at the last document, and verify
 * must agree. (For such a collection the worker checks n+1's references only once n has
 * committed. Checking them early would still pass here, because a parent not yet written is found
 * in the source; the guard is for a parent PostgreSQL refuses in batch n, which this test does not
 * build.)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectId } from 'mongodb';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createEmptyPostgresDatabase, useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli } from '../support/cli.js';
import { migrationSql } from '../support/init-pipeline.js';

const N = 120;
const t = useTestDatabases();

describe('migrate overlaps converting and writing, and keeps references into its own collection exact', () => {
  it('a self-referencing collection in batches of 4: every parent found, none NULL, verify agrees', async () => {
    const target = await createEmptyPostgresDatabase();
    const pool = new pg.Pool({ connectionString: target.databaseUrl, max: 2 });
    try {
      const env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: target.databaseUrl };
      const ids = Array.from({ length: N }, (_, i) => ObjectId.createFromTime(1_600_000_000 + i));
      await t.db.collection('categories').insertMany(ids.map((_id, i) => ({ _id, label: `Category ${i}`, ...(i > 0 ? { parent: ids[i - 1] } : {}) })));
      // Products refer to categories only: their references may be checked early.
      await t.db.collection('products').insertMany(Array.from({ length: 40 }, (_, i) => ({ _id: new ObjectId(), name: `P${i}`, category: ids[(i * 7) % N] })));
      const dir = mkdtempSync(join(tmpdir(), 'hm-overlap-'));
      const init = await runCli(['init'], env, { cwd: dir });
      expect(init.code, init.stderr).toBe(0);
      await pool.query(migrationSql(dir));

      const migrate = await runCli(['migrate', '--batch-size', '4', '--json'], env, { cwd: dir });
      expect(migrate.code, migrate.stderr).toBe(0);
      const result = JSON.parse(migrate.stdout) as { collections: { name: string; migrated: number; orphans: Record<string, number> }[] };
      for (const c of result.collections) expect(c.orphans, c.name).toEqual({});
      expect(Object.fromEntries(result.collections.map((c) => [c.name, c.migrated]))).toEqual({ categories: N, products: 40 });

      // The parent column: the one uuid column of categories besides its id.
      const cols = await pool.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'categories' AND data_type = 'uuid' AND column_name <> 'id'`,
      );
      expect(cols.rows).toHaveLength(1);
      const parent = cols.rows[0]?.column_name as string;
      const linked = await pool.query<{ with_parent: number; dangling: number }>(
        `SELECT count(c."${parent}")::int AS with_parent,
                count(*) FILTER (WHERE c."${parent}" IS NOT NULL AND p.id IS NULL)::int AS dangling
           FROM categories c LEFT JOIN categories p ON p.id = c."${parent}"`,
      );
      expect(linked.rows[0]).toEqual({ with_parent: N - 1, dangling: 0 });

      // Batches committed one after another: the checkpoint is at the last document.
      const cp = await pool.query<{ last_key: string; docs_written: string }>(`SELECT last_key, docs_written::text FROM hybrid_migrate.checkpoints WHERE collection = 'categories'`);
      expect(cp.rows).toHaveLength(1);
      expect(cp.rows[0]?.docs_written).toBe(String(N));
      expect(cp.rows[0]?.last_key).toContain(ids[N - 1]?.toHexString());

      const verify = await runCli(['verify', '--no-report', '--json'], env, { cwd: dir });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    } finally {
      await pool.end();
      await target.drop();
    }
  }, 180_000);
});
