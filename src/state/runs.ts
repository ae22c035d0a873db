/**
 * `hybrid_migrate.runs`: one row for every run that changes anything (migrate, incremental,
 * detect-deletes, rollback), written lazily with the first change — a run with nothing to do
 * leaves no trace — and finished with its status and summary, whatever way it ends.
 *
 * A run killed with kill -9 cannot finish its row. Every run that takes the collection locks
 * marks the rows of runs still `running` on any of those collections as `abandoned`: had
 * such a run been alive, it would hold the lock of that collection.
 */
import { hostname } from 'node:os';
import type pg from 'pg';
import { UsageError } from '../core/errors.js';
import type { RunMetrics } from '../core/metrics.js';
import { readStateOr, stateTable, type Queryable } from './schema.js';

export type RunCommand = 'migrate' | 'rollback';
export type RunStatus = 'running' | 'done' | 'interrupted' | 'max-rejects' | 'max-duration' | 'failed' | 'abandoned';

/** The run's record, created by the first statement that changes anything (inside that statement's transaction). */
export class RunRecord {
  private created = false;
  constructor(
    readonly id: string,
    private readonly command: RunCommand,
    private readonly options: { collections: readonly string[] } & Record<string, unknown>,
  ) {}

  /** Whether the run wrote anything (its row exists). */
  get exists(): boolean {
    return this.created;
  }

  /**
   * Creates the row if this run has none yet; call it in the transaction of each change. Not
   * skipped once done: the transaction that made it may have rolled back since (a batch retried
   * after a deadlock), and the next one must make it again.
   */
  async ensure(q: Queryable): Promise<void> {
    await q.query(
      `INSERT INTO ${stateTable('runs')} (id, command, options, host, pid) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
      [this.id, this.command, JSON.stringify(this.options), hostname(), process.pid],
    );
    this.created = true;
  }

  /** Records how the run ended, when it wrote anything. */
  async finish(q: Queryable, status: Exclude<RunStatus, 'running' | 'abandoned'>, summary: unknown): Promise<void> {
    if (!this.created) return;
    await q.query(`UPDATE ${stateTable('runs')} SET finished_at = now(), status = $2, summary = $3 WHERE id = $1`, [this.id, status, JSON.stringify(summary)]);
  }
}

/**
 * Marks as `abandoned` the runs still `running` on any of `collections`. Call it only while
 * holding those collections' locks: a live run would hold them. Returns the ids marked.
 */
export async function markAbandonedRuns(q: Queryable, collections: readonly string[]): Promise<string[]> {
  if (collections.length === 0) return [];
  return readStateOr([], async () => {
    const r = await q.query<{ id: string }>(
      `UPDATE ${stateTable('runs')} SET status = 'abandoned', finished_at = now()
        WHERE status = 'running' AND jsonb_typeof(options->'collections') = 'array' AND (options->'collections') ?| $1::text[]
        RETURNING id::text`,
      [collections],
    );
    return r.rows.map((row) => row.id);
  });
}

/** Throws a usage error (exit 2) when no run has this id. */
export async function assertRunExists(q: Queryable, runId: string): Promise<void> {
  const found = await readStateOr(false, async () => (await q.query(`SELECT 1 FROM ${stateTable('runs')} WHERE id = $1::uuid`, [runId])).rows.length > 0);
  if (!found) {
    throw new UsageError(`No run with id ${runId} in ${stateTable('runs')}.`, { hint: 'The ids of earlier runs are in the migrate summary (--json "runId") and in hybrid_migrate.runs.' });
  }
}

/**
 * Stores a run's request metrics in `runs.summary.metrics` (merged into the summary the run
 * wrote). False when there is no such run: a dry run or a run with nothing to do has none.
 */
export async function recordRunMetrics(pool: pg.Pool, runId: string, metrics: RunMetrics): Promise<boolean> {
  return readStateOr(false, async () => {
    const r = await pool.query(`UPDATE ${stateTable('runs')} SET summary = COALESCE(summary, '{}'::jsonb) || jsonb_build_object('metrics', $2::jsonb) WHERE id = $1`, [
      runId,
      JSON.stringify(metrics),
    ]);
    return (r.rowCount ?? 0) > 0;
  });
}

/** The latest run that stored metrics: which run, and its metrics per database. */
export interface LatestRunMetrics {
  runId: string;
  command: string;
  startedAt: string;
  metrics: RunMetrics;
}

export async function latestRunMetrics(q: Queryable): Promise<LatestRunMetrics | null> {
  return readStateOr(null, async () => {
    const r = await q.query<{ id: string; command: string; started_at: Date; metrics: RunMetrics }>(
      `SELECT id::text, command, started_at, summary->'metrics' AS metrics FROM ${stateTable('runs')}
        WHERE jsonb_typeof(summary->'metrics') = 'object' ORDER BY started_at DESC LIMIT 1`,
    );
    const row = r.rows[0];
    return row ? { runId: row.id, command: row.command, startedAt: row.started_at.toISOString(), metrics: row.metrics } : null;
  });
}

/** A run as status and plan show it. */
export interface RunInfo {
  id: string;
  command: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  incremental: boolean;
  /** This collection's line of the run's summary, when the run recorded one. */
  summary: Record<string, unknown> | null;
}

interface RunRow {
  id: string;
  command: string;
  status: string;
  started_at: Date;
  finished_at: Date | null;
  options: Record<string, unknown> | null;
  line: Record<string, unknown> | null;
}

const RUN_COLUMNS = `id::text, command, status, started_at, finished_at, options,
  (SELECT e FROM jsonb_array_elements(CASE WHEN jsonb_typeof(summary->'collections') = 'array' THEN summary->'collections' ELSE '[]'::jsonb END) e WHERE e->>'name' = $1 LIMIT 1) AS line`;

function toRunInfo(row: RunRow | undefined): RunInfo | null {
  if (!row) return null;
  return {
    id: row.id,
    command: row.command,
    status: row.status,
    startedAt: row.started_at.toISOString(),
    finishedAt: row.finished_at ? row.finished_at.toISOString() : null,
    incremental: row.options?.incremental === true,
    summary: row.line ?? null,
  };
}

/** The last run touching a collection, and the last migrate run on it that completed. */
export async function lastRuns(q: Queryable, collection: string): Promise<{ last: RunInfo | null; lastCompleteMigrate: RunInfo | null }> {
  return readStateOr({ last: null, lastCompleteMigrate: null }, async () => {
    const covers = `(jsonb_typeof(options->'collections') = 'array' AND (options->'collections') ? $1)`;
    const [last, complete] = await Promise.all([
      q.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM ${stateTable('runs')} WHERE ${covers} ORDER BY started_at DESC LIMIT 1`, [collection]),
      q.query<RunRow>(
        `SELECT ${RUN_COLUMNS} FROM ${stateTable('runs')} WHERE ${covers} AND command LIKE 'migrate%' AND status = 'done' AND finished_at IS NOT NULL ORDER BY started_at DESC LIMIT 1`,
        [collection],
      ),
    ]);
    return { last: toRunInfo(last.rows[0]), lastCompleteMigrate: toRunInfo(complete.rows[0]) };
  });
}

/** The latest run of any command (plan shows it). */
export async function latestRun(q: Queryable): Promise<{ id: string; command: string; status: string; startedAt: string; finishedAt: string | null } | null> {
  return readStateOr(null, async () => {
    const r = await q.query<{ id: string; command: string; status: string; started_at: Date; finished_at: Date | null }>(
      `SELECT id::text, command, status, started_at, finished_at FROM ${stateTable('runs')} ORDER BY started_at DESC LIMIT 1`,
    );
    const last = r.rows[0];
    return last ? { id: last.id, command: last.command, status: last.status, startedAt: last.started_at.toISOString(), finishedAt: last.finished_at?.toISOString() ?? null } : null;
  });
}
