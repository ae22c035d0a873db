/**
 * Metrics of the tool's runs, kept in PostgreSQL with the run (`runs.summary.metrics`), and
 * the data volume per database that status shows next to them.
 */
import type { Db } from 'mongodb';
import type pg from 'pg';
import type { RunMetrics } from '../../core/metrics.js';
import { qualifiedTable, type SchemaModel } from '../../schema/prisma-schema.js';
import { stateTable } from '../../state/state-store.js';
import type { StateTables } from './status-state.js';

/**
 * Stores a run's metrics in `hybrid_migrate.runs.summary.metrics` (merged into the summary the
 * run wrote). Returns false when there is no such run — a dry run or a run with nothing to do
 * leaves no run record, and this writes none either.
 */
export async function recordRunMetrics(pool: pg.Pool, runId: string, metrics: RunMetrics): Promise<boolean> {
  const exists = await pool.query<{ ok: boolean }>(`SELECT to_regclass('hybrid_migrate.runs') IS NOT NULL AS ok`);
  if (!exists.rows[0]?.ok) return false;
  const r = await pool.query(
    `UPDATE ${stateTable('runs')} SET summary = COALESCE(summary, '{}'::jsonb) || jsonb_build_object('metrics', $2::jsonb) WHERE id = $1`,
    [runId, JSON.stringify(metrics)],
  );
  return (r.rowCount ?? 0) > 0;
}

/** The latest run that stored metrics: which run, and its metrics per database. */
export interface LatestRunMetrics {
  runId: string;
  command: string;
  startedAt: string;
  metrics: RunMetrics;
}

export async function latestRunMetrics(pool: pg.Pool, tables: StateTables): Promise<LatestRunMetrics | null> {
  if (!tables.runs) return null;
  const r = await pool.query<{ id: string; command: string; started_at: Date; metrics: RunMetrics }>(
    `SELECT id::text, command, started_at, summary->'metrics' AS metrics FROM ${stateTable('runs')}
      WHERE jsonb_typeof(summary->'metrics') = 'object' ORDER BY started_at DESC LIMIT 1`,
  );
  const row = r.rows[0];
  return row ? { runId: row.id, command: row.command, startedAt: row.started_at.toISOString(), metrics: row.metrics } : null;
}

/** Data volume of the MongoDB database (dbStats); null when the server refuses. */
export async function mongoVolume(db: Db): Promise<{ dataBytes: number; storageBytes: number; indexBytes: number; collections: number } | null> {
  try {
    const s = await db.command({ dbStats: 1 });
    return { dataBytes: Number(s.dataSize ?? 0), storageBytes: Number(s.storageSize ?? 0), indexBytes: Number(s.indexSize ?? 0), collections: Number(s.collections ?? 0) };
  } catch {
    return null;
  }
}

/** Data volume of the PostgreSQL database and of the tool's own schema. */
export async function postgresVolume(pool: pg.Pool): Promise<{ databaseBytes: number; stateBytes: number }> {
  const r = await pool.query<{ db: string; state: string }>(
    `SELECT pg_database_size(current_database())::bigint AS db,
            COALESCE((SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname = 'hybrid_migrate' AND c.relkind = 'r'), 0)::bigint AS state`,
  );
  return { databaseBytes: Number(r.rows[0]?.db ?? 0), stateBytes: Number(r.rows[0]?.state ?? 0) };
}

/** Total size (table, indexes, TOAST) of a model's table and of its child tables. */
export async function tableBytes(pool: pg.Pool, models: readonly SchemaModel[]): Promise<number | null> {
  if (models.length === 0) return 0;
  const r = await pool.query<{ n: string | null }>(
    `SELECT sum(pg_total_relation_size(to_regclass(t)))::bigint AS n FROM unnest($1::text[]) AS t`,
    [models.map((m) => qualifiedTable(m))],
  );
  const n = r.rows[0]?.n;
  return n === null || n === undefined ? null : Number(n);
}
