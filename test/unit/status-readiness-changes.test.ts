/**
 * Readiness for Phase 3 and changes no updatedAt shows (issue 18, item 6): documents without a
 * date in the updatedAt field make the collection unknown until a change-detecting pass has
 * completed after the migration's last write to it.
 */
import { describe, expect, it } from 'vitest';
import { assessReadiness } from '../../src/use-cases/status/status-readiness.js';

const base = {
  name: 'movies',
  documents: 10,
  pending: 0,
  pendingExact: true,
  rejected: 0,
  checkpoints: { ranges: 1, done: 1 },
  lastCompleteRunStart: '2024-05-01T10:00:00.000Z',
  changedSinceLastRun: 0,
  verification: { outcome: 'clean' as const, at: '2024-05-01T11:00:00.000Z', differences: 0, status: 'clean', runId: null },
};
const cd = (c: { withoutUpdatedAt: number | null; passCompletedAt: string | null; lastMigrationWrite: string | null }) => ({ updatedAtField: 'updatedAt', ...c });

describe('readiness: documents without an updatedAt date', () => {
  it('ready when every document has a date, whatever the passes', () => {
    expect(assessReadiness({ ...base, changeDetection: cd({ withoutUpdatedAt: 0, passCompletedAt: null, lastMigrationWrite: '2024-05-01T10:05:00.000Z' }) }).ready).toBe(true);
  });

  it('unknown without a completed pass, naming the command', () => {
    const r = assessReadiness({ ...base, changeDetection: cd({ withoutUpdatedAt: 3, passCompletedAt: null, lastMigrationWrite: '2024-05-01T10:05:00.000Z' }) });
    expect(r.ready).toBeNull();
    expect(r.unknown).toEqual(['changes to 3 documents without a date in "updatedAt" (the incremental sync cannot see them): no change-detecting pass has completed (run: hybrid-migrate migrate --incremental --detect-changes movies)']);
  });

  it('unknown when the migration wrote after the last pass completed; ready when the pass came after', () => {
    const before = assessReadiness({ ...base, changeDetection: cd({ withoutUpdatedAt: 1, passCompletedAt: '2024-05-01T10:04:00.000Z', lastMigrationWrite: '2024-05-01T10:05:00.000Z' }) });
    expect(before.unknown[0]).toContain('since the migration last wrote this collection');
    const after = assessReadiness({ ...base, changeDetection: cd({ withoutUpdatedAt: 1, passCompletedAt: '2024-05-01T10:06:00.000Z', lastMigrationWrite: '2024-05-01T10:05:00.000Z' }) });
    expect(after).toEqual({ ready: true, blockers: [], unknown: [] });
  });

  it('unknown when MongoDB could not say', () => {
    expect(assessReadiness({ ...base, changeDetection: cd({ withoutUpdatedAt: null, passCompletedAt: null, lastMigrationWrite: null }) }).unknown).toEqual(['documents without a date in "updatedAt" (MongoDB not reachable)']);
  });
});

describe('readiness: documents deleted in MongoDB', () => {
  it('not ready while a deleted document still has its row; the ones --detect-deletes kept on purpose do not block', () => {
    const two = assessReadiness({ ...base, deletedInSource: 2, deletedButKept: 1 });
    expect(two.ready).toBe(false);
    expect(two.blockers).toEqual(['1 migrated document deleted in MongoDB still has its row (run migrate --incremental --detect-deletes)']);
    expect(assessReadiness({ ...base, deletedInSource: 1, deletedButKept: 1 })).toEqual({ ready: true, blockers: [], unknown: [] });
    // Not compared (estimated pending): nothing said about deletions.
    expect(assessReadiness({ ...base, deletedInSource: null, deletedButKept: 0 }).ready).toBe(true);
  });
});
