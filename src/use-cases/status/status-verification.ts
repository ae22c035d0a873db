/**
 * The last verification of a collection, read defensively: `hybrid_migrate.verifications` is
 * written by `verify`, whose columns may change between versions. Status reads the latest row
 * of the collection as JSON and interprets the fields it recognises; what it cannot interpret
 * is reported as unknown, never guessed as clean.
 */
import type pg from 'pg';
import { lastVerificationRow } from '../../state/verifications.js';

/** What status knows about the last verification of a collection. */
export interface VerificationInfo {
  /** When it ran (ISO 8601), if the row says. */
  at: string | null;
  /** `clean`: no difference; `differences`: some; `unknown`: the row does not say in a way status understands. */
  outcome: 'clean' | 'differences' | 'unknown';
  /** Number of differing documents, when the row gives it. */
  differences: number | null;
  /** The row's own status text, if any. */
  status: string | null;
  runId: string | null;
}

const TIME_COLUMNS = ['finished_at', 'verified_at', 'completed_at', 'created_at', 'started_at', 'at'];
const DIFF_KEYS = ['differences', 'different', 'mismatches', 'mismatched', 'diff_count', 'differing', 'missing_in_target', 'missing', 'extra'];
const CLEAN_STATUSES = new Set(['clean', 'ok', 'passed', 'pass', 'match', 'matched', 'identical', 'success', 'done-clean']);
const DIRTY_STATUSES = new Set(['differences', 'different', 'failed', 'fail', 'mismatch', 'dirty', 'error']);

/** Null when never verified. */
export async function lastVerification(pool: pg.Pool, collection: string): Promise<VerificationInfo | null> {
  const row = await lastVerificationRow(pool, collection);
  return row ? interpretVerification(row) : null;
}

/** Pure: what a verifications row says, whatever its exact columns. */
export function interpretVerification(row: Record<string, unknown>): VerificationInfo {
  const at = TIME_COLUMNS.map((c) => row[c]).find((v): v is string => typeof v === 'string') ?? null;
  const status = typeof row.status === 'string' ? row.status : null;
  let differences: number | null = null;
  for (const key of DIFF_KEYS) {
    const n = numberOf(row[key]);
    if (n !== null) differences = (differences ?? 0) + n;
  }
  const summary = row.summary && typeof row.summary === 'object' ? (row.summary as Record<string, unknown>) : undefined;
  if (differences === null && summary) {
    for (const key of DIFF_KEYS) {
      const n = numberOf(summary[key]);
      if (n !== null) differences = (differences ?? 0) + n;
    }
  }
  const cleanFlag = typeof row.clean === 'boolean' ? row.clean : typeof row.ok === 'boolean' ? row.ok : null;
  let outcome: VerificationInfo['outcome'] = 'unknown';
  const s = status?.toLowerCase();
  if (cleanFlag === false || (differences !== null && differences > 0) || (s !== undefined && DIRTY_STATUSES.has(s))) outcome = 'differences';
  else if (cleanFlag === true || (s !== undefined && CLEAN_STATUSES.has(s)) || (differences === 0 && (s === undefined || !/running|interrupted|pending/.test(s)))) outcome = 'clean';
  const runId = typeof row.run_id === 'string' ? row.run_id : null;
  return { at, outcome, differences, status, runId };
}

function numberOf(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  if (Array.isArray(v)) return v.length;
  return null;
}
