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
