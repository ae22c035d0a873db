/**
 * Whether a collection can leave MongoDB (Phase 3): fully migrated, verified clean, and the
 * incremental sync caught up. Pure: status gathers the facts, this weighs them. Each condition
 * that fails is a blocker; each that cannot be checked (a database down, a verification row
 * status does not understand) is an unknown — never counted as passed.
 */
import type { VerificationInfo } from './status-verification.js';

/** The facts about one collection that readiness depends on; null = could not be read. */
export interface ReadinessFacts {
  /** The collection (named in the command an unknown recommends). */
  name?: string;
  documents: number | null;
  pending: number | null;
  pendingExact: boolean;
  rejected: number | null;
  checkpoints: { ranges: number; done: number } | null;
  /** Start of the last migrate run that finished cleanly (ISO), null if none. */
  lastCompleteRunStart: string | null;
  /** Source documents whose updatedAt is after that start. */
  changedSinceLastRun: number | null;
  verification: VerificationInfo | null | undefined;
  /** Migrated documents no longer in MongoDB (exact comparison only; null or absent: not compared). */
  deletedInSource?: number | null;
  /** Of those, the ones --detect-deletes kept on purpose (still referenced, or changed by the application). */
  deletedButKept?: number | null;
  /** Changes no updatedAt shows (absent: not read). */
  changeDetection?: {
    updatedAtField: string;
    withoutUpdatedAt: number | null;
    passCompletedAt: string | null;
    lastMigrationWrite: string | null;
  } | null;
}

export interface Readiness {
  /** true: every condition checked and met; false: at least one blocker; null: no blocker but something unknown. */
  ready: boolean | null;
  blockers: string[];
  unknown: string[];
}

export function assessReadiness(f: ReadinessFacts): Readiness {
  const blockers: string[] = [];
  const unknown: string[] = [];
  // 1. Fully migrated.
  if (f.pending === null) unknown.push('pending documents (MongoDB or PostgreSQL not reachable)');
  else if (f.pending > 0) blockers.push(`${f.pending} document${f.pending === 1 ? '' : 's'} not migrated${f.pendingExact ? '' : ' (estimated)'}`);
  else if (!f.pendingExact) unknown.push('pending is estimated from counts (run status --exact to compare ids)');
  if (f.rejected === null) unknown.push('rejected documents');
  else if (f.rejected > 0) blockers.push(`${f.rejected} rejected document${f.rejected === 1 ? '' : 's'} (see hybrid_migrate.rejects)`);
  // 2. Verified clean, after the last run.
  if (f.verification === undefined) unknown.push('verification (PostgreSQL not reachable)');
  else if (f.verification === null) blockers.push('never verified');
  else if (f.verification.outcome === 'differences') blockers.push(`last verification found differences${f.verification.differences ? ` (${f.verification.differences})` : ''}`);
  else if (f.verification.outcome === 'unknown') unknown.push('outcome of the last verification');
  else if (f.verification.at && f.lastCompleteRunStart && Date.parse(f.verification.at) < Date.parse(f.lastCompleteRunStart)) blockers.push('verified before the last migrate run');
  // 3. Caught up: every range done, and nothing changed in MongoDB since the last complete run started.
  if (f.checkpoints === null) unknown.push('checkpoints');
  else if (f.checkpoints.ranges === 0) blockers.push('never migrated');
  else if (f.checkpoints.done < f.checkpoints.ranges) blockers.push(`${f.checkpoints.ranges - f.checkpoints.done} of ${f.checkpoints.ranges} ranges not done`);
  if (f.checkpoints && f.checkpoints.ranges > 0) {
    if (f.lastCompleteRunStart === null) blockers.push('no migrate run finished cleanly');
    else if (f.changedSinceLastRun === null) unknown.push('documents changed since the last run (MongoDB not reachable)');
    else if (f.changedSinceLastRun > 0) blockers.push(`${f.changedSinceLastRun} document${f.changedSinceLastRun === 1 ? '' : 's'} changed in MongoDB since the last run started (run migrate --incremental)`);
    // Rows of documents deleted in MongoDB would outlive the source as if the documents still existed.
    const unsyncedDeletes = (f.deletedInSource ?? 0) - (f.deletedButKept ?? 0);
    if (unsyncedDeletes > 0) blockers.push(`${unsyncedDeletes} migrated document${unsyncedDeletes === 1 ? '' : 's'} deleted in MongoDB still ${unsyncedDeletes === 1 ? 'has its row' : 'have their rows'} (run migrate --incremental --detect-deletes)`);
    const changes = unseenChanges(f);
    if (changes) unknown.push(changes);
  }
  return { ready: blockers.length > 0 ? false : unknown.length > 0 ? null : true, blockers, unknown };
}

/**
 * Documents without a date in the updatedAt field: the sync cannot see their changes, so
 * whether they changed is unknown until a change-detecting pass has completed after the
 * migration last wrote the collection.
 */
function unseenChanges(f: ReadinessFacts): string | undefined {
  const cd = f.changeDetection;
  if (!cd) return undefined;
  if (cd.withoutUpdatedAt === null) return `documents without a date in "${cd.updatedAtField}" (MongoDB not reachable)`;
  if (cd.withoutUpdatedAt === 0) return undefined;
  const passed = cd.passCompletedAt !== null && (cd.lastMigrationWrite === null || Date.parse(cd.passCompletedAt) >= Date.parse(cd.lastMigrationWrite));
  if (passed) return undefined;
  const n = `${cd.withoutUpdatedAt} document${cd.withoutUpdatedAt === 1 ? '' : 's'}`;
  const since = cd.passCompletedAt === null ? 'no change-detecting pass has completed' : 'no change-detecting pass has completed since the migration last wrote this collection';
  return `changes to ${n} without a date in "${cd.updatedAtField}" (the incremental sync cannot see them): ${since} (run: hybrid-migrate migrate --incremental --detect-changes${f.name ? ` ${f.name}` : ''})`;
}
