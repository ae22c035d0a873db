/** Verify's result per collection, recorded in the state for `status` (Phase-3 readiness reads it). */
import type pg from 'pg';
import { recordVerifications } from '../../state/verifications.js';
import { collectionAgrees, type VerifyResult } from './verify-result.js';

export async function recordVerification(pool: pg.Pool, verifyId: string, result: VerifyResult, reportPath: string | null): Promise<void> {
  const rows = result.collections.map((c) => ({
    collection: c.name,
    status: result.interrupted ? ('interrupted' as const) : collectionAgrees(c, result.failOnRejects) ? ('ok' as const) : ('differences' as const),
    sample: result.sample,
    source: c.source,
    target: c.target,
    migrated: c.migrated,
    rejected: c.rejected,
    notMigrated: c.notMigrated,
    missing: c.missing,
    extra: c.extra,
    mismatched: c.mismatched,
    changedByApplication: c.changedByApplication,
    deletedByApplication: c.deletedByApplication,
    checked: c.checked,
    durationMs: c.durationMs,
  }));
  await recordVerifications(pool, verifyId, rows, reportPath);
}
