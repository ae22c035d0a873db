/**
 * Verification history in the tool's own schema: one row per collection per verify run, so
 * that `status` can show when each collection was last verified and with what result.
 * Never in the application's tables.
 */
import type pg from 'pg';
import { quoteIdent } from '../../schema/prisma-schema.js';
import { applyStateDdl, STATE_SCHEMA } from '../../state/state-store.js';
import type { VerifyResult } from './verify-result.js';
import { collectionAgrees } from './verify-result.js';

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
CREATE INDEX IF NOT EXISTS verifications_latest ON ${VERIFICATIONS_TABLE} (collection, verified_at DESC);
`;

/** Creates the table when missing (after ensureStateSchema created the schema). */
export async function ensureVerificationsTable(pool: pg.Pool): Promise<void> {
  await applyStateDdl(pool, 'verifications', DDL);
}

/** Records one row per collection; `status` is 'ok', 'differences' or 'interrupted'. */
export async function recordVerification(pool: pg.Pool, verifyId: string, result: VerifyResult, reportPath: string | null): Promise<void> {
  for (const c of result.collections) {
    const status = result.interrupted ? 'interrupted' : collectionAgrees(c, result.failOnRejects) ? 'ok' : 'differences';
    await pool.query(
      `INSERT INTO ${VERIFICATIONS_TABLE} (run_id, collection, status, sample, source, target, migrated, rejected, not_migrated, missing, extra, mismatched, checked, duration_ms, report_path)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [verifyId, c.name, status, result.sample, c.source, c.target, c.migrated, c.rejected, c.notMigrated, c.missing, c.extra, c.mismatched, c.checked, c.durationMs, reportPath],
    );
  }
}
