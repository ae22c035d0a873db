/**
 * `hybrid_migrate.checkpoints`: per collection and `_id` range, the bounds (persisted, so a
 * resume never recomputes different ones), the last committed `_id`, counts and status. A
 * range advances only inside the transaction of the batch it covers.
 */
import { withTransaction } from '../target/transaction.js';
import { readStateOr, stateTable, type Queryable } from './schema.js';
import { startSyncCursor } from './sync-cursors.js';
import type pg from 'pg';

export interface CheckpointRow {
  collection: string;
  partition: number;
  range_start: string | null;
  range_end: string | null;
  last_key: string | null;
  docs_read: string;
  docs_written: string;
  docs_rejected: string;
  status: 'pending' | 'running' | 'done';
  mode: 'fresh' | 'upsert';
  mapping_fingerprint: string;
}

/** A collection's checkpoints in range order; none when the state does not exist yet. */
export async function readCheckpoints(q: Queryable, collection: string): Promise<CheckpointRow[]> {
  return readStateOr([], async () => (await q.query<CheckpointRow>(`SELECT * FROM ${stateTable('checkpoints')} WHERE collection = $1 ORDER BY partition`, [collection])).rows);
}

/**
 * Replaces a collection's checkpoints in one transaction (first run, or --restart), and
 * starts its incremental cursor at this instant: whatever changes from now on is for the
 * incremental sync. `ensureRun` creates the run's record in the same transaction.
 */
export async function replaceCheckpoints(pool: pg.Pool, rows: readonly CheckpointRow[], runId: string, ensureRun: (q: Queryable) => Promise<void>): Promise<void> {
  const first = rows[0];
  if (!first) return;
  await withTransaction(pool, async (client) => {
    await ensureRun(client);
    await client.query(`DELETE FROM ${stateTable('checkpoints')} WHERE collection = $1`, [first.collection]);
    for (const row of rows) {
      await client.query(
        `INSERT INTO ${stateTable('checkpoints')} (collection, partition, range_start, range_end, mode, mapping_fingerprint, run_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [row.collection, row.partition, row.range_start, row.range_end, row.mode, row.mapping_fingerprint, runId],
      );
    }
    await startSyncCursor(client, first.collection, new Date(), runId);
  });
}

/** Moves a range's checkpoint to the batch just written (inside that batch's transaction). */
export async function advanceCheckpoint(
  q: Queryable,
  at: { collection: string; partition: number; runId: string },
  batch: { lastKey: string; read: number; written: number; rejected: number },
): Promise<void> {
  await q.query(
    `UPDATE ${stateTable('checkpoints')}
        SET last_key = $3, docs_read = docs_read + $4, docs_written = docs_written + $5, docs_rejected = docs_rejected + $6,
            status = 'running', run_id = $7, updated_at = now()
      WHERE collection = $1 AND partition = $2`,
    [at.collection, at.partition, batch.lastKey, batch.read, batch.written, batch.rejected, at.runId],
  );
}

/** A range read to its end. */
export async function markRangeDone(q: Queryable, collection: string, partition: number): Promise<void> {
  await q.query(`UPDATE ${stateTable('checkpoints')} SET status = 'done', updated_at = now() WHERE collection = $1 AND partition = $2`, [collection, partition]);
}

/** Forgets a collection's checkpoints (rollback: the next migrate starts over). */
export async function forgetCheckpoints(q: Queryable, collection: string): Promise<void> {
  await q.query(`DELETE FROM ${stateTable('checkpoints')} WHERE collection = $1`, [collection]);
}

/** Ranges per status (status shows them). */
export interface CheckpointSummary {
  ranges: number;
  done: number;
  running: number;
  pending: number;
}

export async function checkpointSummary(q: Queryable, collection: string): Promise<CheckpointSummary> {
  const rows = await readStateOr([] as { status: string; n: string }[], async () => {
    const r = await q.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM ${stateTable('checkpoints')} WHERE collection = $1 GROUP BY status`, [collection]);
    return r.rows;
  });
  const by = new Map(rows.map((x) => [x.status, Number(x.n)]));
  const ranges = [...by.values()].reduce((a, b) => a + b, 0);
  return { ranges, done: by.get('done') ?? 0, running: by.get('running') ?? 0, pending: ranges - (by.get('done') ?? 0) - (by.get('running') ?? 0) };
}

/** Per collection: ranges, counts and mapping fingerprints (plan's "earlier runs"). */
export interface CheckpointTotals {
  collection: string;
  ranges: string;
  done: string;
  read: string;
  written: string;
  rejected: string;
  fingerprints: string[];
}

export async function checkpointTotals(q: Queryable, collections: readonly string[]): Promise<CheckpointTotals[]> {
  return readStateOr([], async () => {
    const r = await q.query<CheckpointTotals>(
      `SELECT collection, count(*) AS ranges, count(*) FILTER (WHERE status = 'done') AS done, sum(docs_read) AS read,
              sum(docs_written) AS written, sum(docs_rejected) AS rejected, array_agg(DISTINCT mapping_fingerprint) AS fingerprints
         FROM ${stateTable('checkpoints')} WHERE collection = ANY($1::text[]) GROUP BY collection`,
      [collections],
    );
    return r.rows;
  });
}
