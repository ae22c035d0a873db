/**
 * Verification history in the tool's own schema: one row per collection per verify run, so
 * that `status` can show when each collection was last verified and with what result.
 * Never in the application's tables.
 */
import type pg from 'pg';
import { quoteIdent } from '../schema/prisma-schema.js';
import { applyStateDdl, readStateOr, STATE_SCHEMA, type Queryable } from './schema.js';

export const VERIFICATIONS_TABLE = `${quoteIdent(STATE_SCHEMA)}.${quoteIdent('verifications')}`;

const DDL = `
CREATE TABLE IF NOT EXISTS ${VERIFICATIONS_TABLE} (
  id bigserial PRIMARY KEY,
  run_id uuid NOT NULL,
  collection text NOT NULL,
  verified_at timestamptz NOT NULL DEFAULT now(),
  status text NOT NULL,
  sample integer,
  source bigint NOT NULL,
  target bigint NOT NULL,
  migrated bigint NOT NULL,
  rejected bigint NOT NULL,
  not_migrated bigint NOT NULL,
  missing bigint NOT NULL,
  extra bigint NOT NULL,
  mismatched bigint NOT NULL,
  checked bigint NOT NULL,
  duration_ms integer NOT NULL,
  report_path text
);
ALTER TABLE ${VERIFICATIONS_TABLE} ADD COLUMN IF NOT EXISTS changed_by_application bigint NOT NULL DEFAULT 0;
ALTER TABLE ${VERIFICATIONS_TABLE} ADD COLUMN IF NOT EXISTS deleted_by_application bigint NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS verifications_latest ON ${VERIFICATIONS_TABLE} (collection, verified_at DESC);
`;

/** Creates the table when missing (after ensureStateSchema created the schema). */
export async function ensureVerificationsTable(pool: pg.Pool): Promise<void> {
  await applyStateDdl(pool, 'verifications', DDL);
}

/** One collection's verification result, as recorded. */
export interface VerificationRow {
  collection: string;
  status: 'ok' | 'differences' | 'interrupted';
  sample: number | null;
  source: number;
  target: number;
  migrated: number;
  rejected: number;
  notMigrated: number;
  missing: number;
  extra: number;
  mismatched: number;
  /** Migrated documents the application changed / deleted rows of since: not differences, shown by status. */
  changedByApplication: number;
  deletedByApplication: number;
  checked: number;
  durationMs: number;
}

/** Records one row per collection of a verify run. */
export async function recordVerifications(q: Queryable, verifyId: string, rows: readonly VerificationRow[], reportPath: string | null): Promise<void> {
  for (const c of rows) {
    await q.query(
      `INSERT INTO ${VERIFICATIONS_TABLE} (run_id, collection, status, sample, source, target, migrated, rejected, not_migrated, missing, extra, mismatched,
         changed_by_application, deleted_by_application, checked, duration_ms, report_path)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
      [verifyId, c.collection, c.status, c.sample, c.source, c.target, c.migrated, c.rejected, c.notMigrated, c.missing, c.extra, c.mismatched,
       c.changedByApplication, c.deletedByApplication, c.checked, c.durationMs, reportPath],
    );
  }
}

const TIME_COLUMNS = ['finished_at', 'verified_at', 'completed_at', 'created_at', 'started_at', 'at'];

/**
 * The latest verification row of a collection as JSON, read defensively: the table is written
 * by `verify`, whose columns may change between versions; the caller interprets what it
 * recognises. Null when never verified (or the table has no collection column).
 */
export async function lastVerificationRow(q: Queryable, collection: string): Promise<Record<string, unknown> | null> {
  return readStateOr(null, async () => {
    const cols = await q.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'verifications'`, [STATE_SCHEMA]);
    const names = new Set(cols.rows.map((r) => r.column_name));
    if (!names.has('collection')) return null;
    const order = TIME_COLUMNS.filter((c) => names.has(c)).map((c) => `${quoteIdent(c)} DESC NULLS LAST`);
    const r = await q.query<{ j: Record<string, unknown> }>(
      `SELECT to_jsonb(v) AS j FROM ${VERIFICATIONS_TABLE} v WHERE collection = $1 ORDER BY ${[...order, 'ctid DESC'].join(', ')} LIMIT 1`,
      [collection],
    );
    return r.rows[0]?.j ?? null;
  });
}
