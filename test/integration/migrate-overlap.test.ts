/**
 * A range worker converts batch n+1 while batch n is written, and for most collections checks
 * n+1's references then too. Not for a collection whose references point into itself: a child
 * row of n+1 may refer to a document of n, which is in the target only once n has committed
 * (migrate looks references up in the target). Here each category's `links` refer to the
 * category before it, so with batches of 4 the first document of every batch refers to the
 * batch being written: every reference must be found (no orphan, no NULL, nothing dangling),
 * batches must commit in `_id` order, and verify must agree. With the early check forced on this
 * collection, the first link of every batch is an orphan and this test fails.
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
  it('a self-referencing collection in batches of 4: every parent and every link found, none NULL, verify agrees', async () => {
    const target = await createEmptyPostgresDatabase();
    const pool = new pg.Pool({ connectionString: target.databaseUrl, max: 2 });
    try {
      const env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: target.databaseUrl };
      const ids = Array.from({ length: N }, (_, i) => ObjectId.createFromTime(1_600_000_000 + i));
      // `parent` (the main row) is written in a second pass, as a cycle; `links` become child rows whose
      // reference into the same collection is checked when the batch is: the first document of each
      // batch refers to the last of the batch before, the one being written.
      await t.db.collection('categories').insertMany(
        ids.map((_id, i) => ({ _id, label: `Category ${i}`, ...(i > 0 ? { parent: ids[i - 1], links: [{ kind: 'previous', to: ids[i - 1] }] } : { links: [] }) })),
      );
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

      // The child rows' references into their own collection: every one written, none dangling.
      const childTables = await pool.query<{ table_name: string; column_name: string }>(
        `SELECT c.table_name, c.column_name FROM information_schema.columns c
          WHERE c.table_name LIKE 'categor%link%' AND c.data_type = 'uuid' AND c.column_name NOT IN ('id') AND c.column_name NOT LIKE '%category_id'`,
      );
      expect(childTables.rows, JSON.stringify(childTables.rows)).toHaveLength(1);
      const { table_name: linkTable, column_name: toColumn } = childTables.rows[0] as { table_name: string; column_name: string };
      const links = await pool.query<{ rows: number; with_target: number; dangling: number }>(
        `SELECT count(*)::int AS rows, count(l."${toColumn}")::int AS with_target,
                count(*) FILTER (WHERE l."${toColumn}" IS NOT NULL AND c.id IS NULL)::int AS dangling
           FROM "${linkTable}" l LEFT JOIN categories c ON c.id = l."${toColumn}"`,
      );
      expect(links.rows[0]).toEqual({ rows: N - 1, with_target: N - 1, dangling: 0 });

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
