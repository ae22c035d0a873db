/**
 * `hybrid_migrate.sync_state`: per collection, where the incremental sync stands — the
 * (`updatedAt`, `_id`) cursor of changed documents and the high-water `_id` of new ones. It
 * moves only inside the transaction of the batch it covers, and only when that batch wrote
 * something (a run that finds nothing new leaves no trace).
 */
import { readStateOr, stateTable, type Queryable } from './schema.js';

export interface SyncCursor {
  cursorUpdatedAt: Date | null;
  cursorKey: string | null;
  highWaterKey: string | null;
}

export async function readSyncCursor(q: Queryable, collection: string): Promise<SyncCursor | undefined> {
  return readStateOr(undefined, async () => {
    const r = await q.query<{ cursor_updated_at: Date | null; cursor_key: string | null; high_water_key: string | null }>(
      `SELECT cursor_updated_at, cursor_key, high_water_key FROM ${stateTable('sync_state')} WHERE collection = $1`,
      [collection],
    );
    const row = r.rows[0];
    return row ? { cursorUpdatedAt: row.cursor_updated_at, cursorKey: row.cursor_key, highWaterKey: row.high_water_key } : undefined;
  });
}

/**
 * Records where incremental sync starts for a collection whose initial load begins now:
 * anything updated from this instant on is picked up by the next incremental run.
 */
export async function startSyncCursor(q: Queryable, collection: string, startedAt: Date, runId: string): Promise<void> {
  await q.query(
    `INSERT INTO ${stateTable('sync_state')} (collection, cursor_updated_at, last_run_id) VALUES ($1, $2, $3)
     ON CONFLICT (collection) DO UPDATE SET cursor_updated_at = LEAST(${stateTable('sync_state')}.cursor_updated_at, EXCLUDED.cursor_updated_at), updated_at = now()`,
    [collection, startedAt, runId],
  );
}

/**
 * Moves the cursor forward (never back) to what a batch covered, but never past `notAfter`
 * (the run's own start): a document stamped in the future must not hide every later change.
 * A cursor already past it (recorded before this rule) is brought back to it.
 */
export async function advanceSyncCursor(
  q: Queryable,
  collection: string,
  runId: string,
  next: { highWaterKey?: string; cursorUpdatedAt?: Date; cursorKey?: string; notAfter?: Date },
): Promise<void> {
  const t = stateTable('sync_state');
  await q.query(
    `INSERT INTO ${t} (collection, cursor_updated_at, cursor_key, high_water_key, last_run_id, last_synced_at)
     VALUES ($1, LEAST($2::timestamptz, $6::timestamptz), $3, $4, $5, now())
     ON CONFLICT (collection) DO UPDATE SET
       cursor_updated_at = LEAST(GREATEST(${t}.cursor_updated_at, EXCLUDED.cursor_updated_at), $6::timestamptz),
       cursor_key = COALESCE(EXCLUDED.cursor_key, ${t}.cursor_key),
       high_water_key = COALESCE(EXCLUDED.high_water_key, ${t}.high_water_key),
       last_run_id = EXCLUDED.last_run_id, last_synced_at = now(), updated_at = now()`,
    [collection, next.cursorUpdatedAt ?? null, next.cursorKey ?? null, next.highWaterKey ?? null, runId, next.notAfter ?? null],
  );
}

/** Forgets a collection's cursor (rollback: it would skip the rows just deleted). */
export async function forgetSyncCursor(q: Queryable, collection: string): Promise<void> {
  await readStateOr(undefined, async () => void (await q.query(`DELETE FROM ${stateTable('sync_state')} WHERE collection = $1`, [collection])));
}

/** The saved cursor as status shows it (text, as PostgreSQL's JSON gives it). */
export async function syncCursorForStatus(q: Queryable, collection: string): Promise<{ cursorUpdatedAt: string | null; lastSyncedAt: string | null } | null> {
  return readStateOr(null, async () => {
    const r = await q.query<Record<string, unknown>>(`SELECT to_jsonb(s) AS j FROM ${stateTable('sync_state')} s WHERE collection = $1`, [collection]);
    const j = r.rows[0]?.j as Record<string, unknown> | undefined;
    if (!j) return null;
    const text = (v: unknown) => (typeof v === 'string' ? v : null);
    return { cursorUpdatedAt: text(j.cursor_updated_at), lastSyncedAt: text(j.last_synced_at) };
  });
}

/**
 * The change-detecting pass (`--detect-changes`): one ordered `_id` pass over a collection,
 * resumable. `change_pass_started_at` and `change_pass_key` describe the pass under way (its
 * start, the last `_id` whose batch committed); `changes_checked_at` is the start of the last
 * pass that completed: every change MongoDB had before that instant is synced.
 */
export interface ChangePass {
  /** When the pass under way started (the instant it vouches for once it completes). */
  startedAt: Date;
  /** The last `_id` (canonical Extended JSON) whose batch committed; null: start from the beginning. */
  afterKey: string | null;
}

/** Starts a pass, or returns the one under way (interrupted earlier) to resume it. */
export async function beginChangePass(q: Queryable, collection: string, now: Date): Promise<ChangePass> {
  const t = stateTable('sync_state');
  const r = await q.query<{ started: Date; key: string | null }>(
    `INSERT INTO ${t} (collection, change_pass_started_at) VALUES ($1, $2)
     ON CONFLICT (collection) DO UPDATE SET change_pass_started_at = COALESCE(${t}.change_pass_started_at, EXCLUDED.change_pass_started_at), updated_at = now()
     RETURNING change_pass_started_at AS started, change_pass_key AS key`,
    [collection, now],
  );
  const row = r.rows[0] as { started: Date; key: string | null };
  return { startedAt: row.started, afterKey: row.key };
}

/** Records, in a batch's transaction, that the pass under way has checked every `_id` up to `key`. */
export async function advanceChangePass(q: Queryable, collection: string, key: string): Promise<void> {
  await q.query(`UPDATE ${stateTable('sync_state')} SET change_pass_key = $2, updated_at = now() WHERE collection = $1 AND change_pass_started_at IS NOT NULL`, [collection, key]);
}

/** The pass under way reached the end: what it vouches for is recorded, the next pass starts afresh. */
export async function completeChangePass(q: Queryable, collection: string): Promise<Date | null> {
  const r = await q.query<{ checked: Date | null }>(
    `UPDATE ${stateTable('sync_state')} SET changes_checked_at = GREATEST(changes_checked_at, change_pass_started_at), changes_pass_completed_at = now(),
       change_pass_started_at = NULL, change_pass_key = NULL, updated_at = now()
     WHERE collection = $1 RETURNING changes_checked_at AS checked`,
    [collection],
  );
  return r.rows[0]?.checked ?? null;
}

/** What status shows of a collection's change-detecting passes (null: no state). Read as JSON: state written before these columns existed still reads. */
export interface ChangePassStatus {
  /** The start of the last completed pass: every change before it is synced. */
  checkedUpTo: Date | null;
  /** When that pass completed. */
  completedAt: Date | null;
  /** A pass interrupted (or running) since this instant. */
  underWaySince: Date | null;
}

export async function changePassForStatus(q: Queryable, collection: string): Promise<ChangePassStatus | null> {
  return readStateOr(null, async () => {
    const r = await q.query<{ j: Record<string, unknown> }>(`SELECT to_jsonb(s) AS j FROM ${stateTable('sync_state')} s WHERE collection = $1`, [collection]);
    const j = r.rows[0]?.j;
    if (!j) return null;
    const date = (v: unknown) => (typeof v === 'string' ? new Date(v) : null);
    return { checkedUpTo: date(j.changes_checked_at), completedAt: date(j.changes_pass_completed_at), underWaySince: date(j.change_pass_started_at) };
  });
}
