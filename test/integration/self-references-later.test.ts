/**
 * Child rows that refer to a LATER document of their own collection (`products.related:
 * [ObjectId]` → ProductRelated.relatedId → products, a required foreign key as `init` drafts
 * it). Migrate looks references up in the target, and a later batch (or another range) is not
 * there yet: before the fix every such document was rejected ("references products …, which
 * does not exist"), and with it every document referring to a rejected one — all 60 here, while
 * plan (which finds them in the source) predicted none. Now the row is held back, the document
 * written without it and recorded, and written whole once the collection is loaded; an
 * interrupted run finishes that when it resumes. A reference to a document that exists nowhere
 * is still an orphan at once (rejected: the foreign key is required).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectId } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmptyPostgresDatabase, useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli, type CliEnv } from '../support/cli.js';
import { migrationSql } from '../support/init-pipeline.js';

const N = 60;
const t = useTestDatabases();
const ids = Array.from({ length: N }, (_, i) => ObjectId.createFromTime(1_650_000_000 + i));
/** Product i refers to i+7 and i+31 (mod N): most references point to a later batch of 10. */
const related = (i: number) => [ids[(i + 7) % N], ids[(i + 31) % N]];
let dir: string;

type MigrateJson = { collections: { name: string; migrated: number; rejected: number; orphans: Record<string, number> }[] };

beforeAll(async () => {
  await t.db.collection('products').insertMany(ids.map((_id, i) => ({ _id, name: `Product ${i}`, price: 10 + i, related: related(i) })));
  dir = mkdtempSync(join(tmpdir(), 'hm-selfref-'));
  const init = await runCli(['init'], { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: 'postgresql://unused@127.0.0.1:1/none' }, { cwd: dir });
  expect(init.code, init.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await t.db.collection('products').deleteMany({ name: 'Product broken' });
});

/** A fresh target database with init's tables; `fn` gets its environment and a pool. */
async function withTarget(fn: (env: CliEnv, pool: pg.Pool) => Promise<void>): Promise<void> {
  const target = await createEmptyPostgresDatabase();
  const pool = new pg.Pool({ connectionString: target.databaseUrl, max: 2 });
  try {
    await pool.query(migrationSql(dir));
    await fn({ MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: target.databaseUrl }, pool);
  } finally {
    await pool.end();
    await target.drop();
  }
}

/** Every product and every link written, each link to the product the source names; nothing left recorded. */
async function expectComplete(pool: pg.Pool): Promise<void> {
  const counts = await pool.query<{ products: number; links: number; held: number }>(
    `SELECT (SELECT count(*)::int FROM products) AS products, (SELECT count(*)::int FROM product_related) AS links,
            (SELECT count(*)::int FROM hybrid_migrate.deferred_refs) AS held`,
  );
  expect(counts.rows[0]).toEqual({ products: N, links: 2 * N, held: 0 });
  // Each link names the product the source names at that position (the UUID keeps the ObjectId's bytes).
  const links = await pool.query<{ parent: string; position: number; target: string }>(
    `SELECT p.name AS parent, r.position, t.name AS target FROM product_related r JOIN products p ON p.id = r.product_id JOIN products t ON t.id = r.related_id`,
  );
  expect(links.rows).toHaveLength(2 * N);
  for (const l of links.rows) {
    const i = Number(l.parent.replace('Product ', ''));
    expect(l.target, `${l.parent} [${l.position}]`).toBe(`Product ${ids.indexOf(related(i)[l.position] as ObjectId)}`);
  }
}

describe('child rows referring to a later document of their own collection', () => {
  it('the draft makes that reference a required foreign key (the case that rejected every document)', () => {
    // The premise of the other tests: with an optional key the loss was quieter (NULL + $orphans).
    expect(migrationSql(dir)).toMatch(/"related_id" UUID NOT NULL/);
  });

  it('batches of 10 over 3 parallel ranges: every document and link written, plan agrees, verify agrees', async () => {
    await withTarget(async (env, pool) => {
      const plan = await runCli(['plan', '--batch-size', '10', '--json'], env, { cwd: dir });
      expect(plan.code, plan.stderr).toBe(0);
      const planned = (JSON.parse(plan.stdout) as { collections: { name: string; rejects: { documents: number }; orphans: unknown[] }[] }).collections.find((c) => c.name === 'products');
      expect(planned?.rejects.documents).toBe(0);
      expect(planned?.orphans).toEqual([]);

      const migrate = await runCli(['migrate', '--batch-size', '10', '--partition-size', '20', '--ranges', '8', '--json'], env, { cwd: dir });
      expect(migrate.code, migrate.stderr).toBe(0);
      const products = (JSON.parse(migrate.stdout) as MigrateJson).collections.find((c) => c.name === 'products');
      expect(products).toMatchObject({ migrated: N, rejected: 0, orphans: {} });
      await expectComplete(pool);

      const verify = await runCli(['verify', '--no-report', '--json'], env, { cwd: dir });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    });
  }, 180_000);

  it('killed after the first pass: the next run writes the held-back rows, and verify agrees', async () => {
    await withTarget(async (env, pool) => {
      // 6 batches of 10 commit; the 7th commit is the first document written whole: killed right after it.
      const killed = await runCli(['migrate', 'products', '--batch-size', '10'], { ...env, HYBRID_MIGRATE_FAULT: 'migrate:after-commit:7' }, { cwd: dir });
      expect(killed.signal).toBe('SIGKILL');
      const left = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM hybrid_migrate.deferred_refs`);
      expect(left.rows[0]?.n).toBeGreaterThan(0);
      expect(Number((await pool.query(`SELECT count(*)::int AS n FROM product_related`)).rows[0].n)).toBeLessThan(2 * N);

      const resumed = await runCli(['migrate', 'products', '--batch-size', '10', '--json'], env, { cwd: dir });
      expect(resumed.code, resumed.stderr).toBe(0);
      await expectComplete(pool);
      const verify = await runCli(['verify', '--no-report', '--json'], env, { cwd: dir });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    });
  }, 180_000);

  it('a reference to a document that exists nowhere is still rejected at once, and only that document', async () => {
    const broken = ObjectId.createFromTime(1_650_000_000 + N);
    await t.db.collection('products').insertOne({ _id: broken, name: 'Product broken', price: 1, related: [ids[0], new ObjectId('00000000000000000000dead')] });
    try {
      await withTarget(async (env, pool) => {
        const migrate = await runCli(['migrate', '--batch-size', '10', '--json'], env, { cwd: dir });
        expect(migrate.code, migrate.stderr).toBe(0);
        const products = (JSON.parse(migrate.stdout) as MigrateJson).collections.find((c) => c.name === 'products');
        expect(products).toMatchObject({ migrated: N, rejected: 1 });
        const rejects = await pool.query<{ source_key: string; reason: string }>(`SELECT source_key, reason FROM hybrid_migrate.rejects`);
        expect(rejects.rows).toEqual([{ source_key: `oid:${broken.toHexString()}`, reason: expect.stringMatching(/00000000000000000000dead, which does not exist/) }]);
        await expectComplete(pool);
      });
    } finally {
      await t.db.collection('products').deleteOne({ _id: broken });
    }
  }, 180_000);
});
