/**
 * The shipped configuration and schema, resolved as the CLI resolves them, and a one-call
 * `migrate` over a test file's databases.
 */
import { fileURLToPath } from 'node:url';
import type { Db } from 'mongodb';
import type pg from 'pg';
import { loadConfig } from '../../src/config/load-config.js';
import { resolveMapping } from '../../src/config/resolve-mapping.js';
import { loadPrismaSchema } from '../../src/schema/prisma-schema.js';
import { migrate, type MigrateOptions, type MigrateResult } from '../../src/use-cases/migrate/migrate.js';
import type { MigrationMapping } from '../../src/core/mapping.js';
import { writePlanFor } from '../../src/target/batch-writer.js';
import { childRowsDigest, refreshRowHashes } from '../../src/state/ownership.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function shippedMapping(collections?: readonly string[]): Promise<MigrationMapping> {
  const loaded = await loadConfig(undefined, REPO_ROOT);
  const schema = await loadPrismaSchema(`${REPO_ROOT}/prisma/schema.prisma`);
  const { mapping, issues } = resolveMapping(loaded.config, schema, collections);
  if (issues.length > 0) throw new Error(`shipped config has issues: ${JSON.stringify(issues)}`);
  return mapping;
}

export async function runMigrate(db: Db, pool: pg.Pool, opts: Partial<MigrateOptions> & { collections?: readonly string[] } = {}): Promise<MigrateResult> {
  const mapping = await shippedMapping();
  return migrate(
    { db, pool, mapping },
    {
      collections: opts.collections ?? mapping.loadOrder,
      dryRun: opts.dryRun ?? false,
      restart: opts.restart ?? false,
      batchSize: opts.batchSize,
      concurrency: opts.concurrency,
      maxRejects: opts.maxRejects,
      partitionSize: opts.partitionSize ?? 500_000,
      signal: opts.signal ?? new AbortController().signal,
    },
  );
}

/**
 * Records the rows of `collections` as they are now as what the migration wrote (row hashes
 * and child-row evidence in id_map): a test that corrupts rows with SQL to stand for a
 * migration defect calls it, or verify would rightly read the edits as the application's.
 */
export async function recordAsMigrationWrote(pool: pg.Pool, collections: readonly string[]): Promise<void> {
  const mapping = await shippedMapping();
  for (const name of collections) {
    const plan = writePlanFor(mapping.collections.get(name) as NonNullable<ReturnType<typeof mapping.collections.get>>);
    const r = await pool.query<{ uuid: string }>(`SELECT uuid::text FROM hybrid_migrate.id_map WHERE collection = $1`, [name]);
    const uuids = r.rows.map((row) => row.uuid);
    await refreshRowHashes(pool, plan.main.table, plan.main.idColumn, uuids);
    if (plan.childRefs.length === 0) continue;
    const digests = await childRowsDigest(pool, plan.childRefs, uuids);
    for (const [uuid, digest] of digests) await pool.query(`UPDATE hybrid_migrate.id_map SET child_rows = $2 WHERE uuid = $1`, [uuid, digest]);
  }
}
