/**
 * Applies the repository's Prisma migrations (prisma/migrations/<name>/migration.sql) without
 * Prisma's native schema engine, which cannot be downloaded on these machines. Each one is
 * recorded in `_prisma_migrations` exactly as Prisma records it, so a later real
 * `prisma migrate deploy` sees it as applied.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { HybridMigrateError, ExitCode } from '../../src/core/errors.js';
import { redactUri } from '../../src/core/redact.js';

/** The advisory lock key Prisma Migrate takes, so we serialize with a concurrent real `prisma migrate`. */
const PRISMA_ADVISORY_LOCK = 72707369;

/** Prisma's own DDL for the table (schema-engine, PostgreSQL flavour). */
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** One migration folder as found on disk. */
export interface MigrationFile {
  name: string;
  sql: string;
  /** sha256 hex of the file's bytes: what Prisma stores in `checksum`. */
  checksum: string;
}

export interface ApplyMigrationsResult {
  applied: string[];
  /** Already recorded as finished, left alone. */
  skipped: string[];
}

/** The repository root: the nearest ancestor of this module holding prisma/migrations (works from dev/ and dist/dev/). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'prisma', 'migrations')) && existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find prisma/migrations above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export function defaultMigrationsDir(): string {
  return join(repoRoot(), 'prisma', 'migrations');
}

/** Reads every `<name>/migration.sql`, sorted by name like Prisma does. */
export async function readMigrations(migrationsDir: string = defaultMigrationsDir()): Promise<MigrationFile[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory() && existsSync(join(migrationsDir, e.name, 'migration.sql')))
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Promise.all(
    names.map(async (name) => {
      const bytes = await readFile(join(migrationsDir, name, 'migration.sql'));
      return { name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') };
    }),
  );
}

interface RecordedMigration {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Applies each not-yet-applied migration in its own transaction (the script and its
 * `_prisma_migrations` row commit together). Idempotent; refuses to continue past a migration
 * that Prisma recorded as failed or that was edited after it was applied.
 */
export async function applyPrismaMigrations(databaseUrl: string, migrationsDir: string = defaultMigrationsDir()): Promise<ApplyMigrationsResult> {
  const migrations = await readMigrations(migrationsDir);
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => {});
  const result: ApplyMigrationsResult = { applied: [], skipped: [] };
  try {
    await client.connect();
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
    await client.query(CREATE_MIGRATIONS_TABLE);
    const { rows } = await client.query<RecordedMigration>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
    );
    for (const migration of migrations) {
      const recorded = rows.filter((r) => r.migration_name === migration.name);
      const finished = recorded.find((r) => r.finished_at !== null);
      if (finished) {
        if (finished.checksum !== migration.checksum) throw modifiedError(migration, databaseUrl);
        result.skipped.push(migration.name);
        continue;
      }
      if (recorded.length > 0) throw failedError(migration, databaseUrl);
      await applyOne(client, migration, databaseUrl);
      result.applied.push(migration.name);
    }
    return result;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK]).catch(() => {});
    await client.end().catch(() => {});
  }
}

async function applyOne(client: pg.Client, migration: MigrationFile, databaseUrl: string): Promise<void> {
  const id = randomUUID();
  try {
    await client.query('BEGIN');
    await client.query(
      'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, clock_timestamp(), 0)',
      [id, migration.checksum, migration.name],
    );
    // No parameters: the simple query protocol runs a multi-statement script.
    await client.query(migration.sql);
    await client.query('UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1', [id]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    const reason = err instanceof Error ? err.message : String(err);
    throw new HybridMigrateError('MIGRATION_FAILED', ExitCode.Failed, `Migration "${migration.name}" failed on ${redactUri(databaseUrl)}: ${reason}`, {
      entity: migration.name,
      hint: 'Nothing of this migration was kept (it ran in a transaction). Fix the SQL or the database and rerun.',
      cause: err,
    });
  }
}

function modifiedError(migration: MigrationFile, databaseUrl: string): HybridMigrateError {
  return new HybridMigrateError(
    'MIGRATION_MODIFIED',
    ExitCode.Config,
    `Migration "${migration.name}" was edited after it was applied to ${redactUri(databaseUrl)} (checksum differs).`,
    { entity: migration.name, hint: 'Restore the applied migration.sql and add a new migration, or recreate the database.' },
  );
}

function failedError(migration: MigrationFile, databaseUrl: string): HybridMigrateError {
  return new HybridMigrateError(
    'MIGRATION_FAILED_BEFORE',
    ExitCode.Failed,
    `Migration "${migration.name}" is recorded as started but not finished in ${redactUri(databaseUrl)}.`,
    { entity: migration.name, hint: 'Resolve it as Prisma documents ("prisma migrate resolve"), or recreate the database.' },
  );
}
