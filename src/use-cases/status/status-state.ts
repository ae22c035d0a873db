/**
 * What `status` reads from PostgreSQL: the tool's state (id_map, rejects, checkpoints, runs,
 * sync_state, verifications) and the application's tables. Read-only, and defensive: the
 * `hybrid_migrate` schema may not exist yet (nothing migrated), and tables created by later
 * versions (verifications, sync_state) are read only when present, column by column.
 */
import type pg from 'pg';
import { qualifiedTable, quoteIdent, type SchemaModel } from '../../schema/prisma-schema.js';
import { STATE_SCHEMA } from '../../state/state-store.js';

const S = quoteIdent(STATE_SCHEMA);

/** Which state tables exist (none before the first migrate). */
export interface StateTables {
  idMap: boolean;
  rejects: boolean;
  checkpoints: boolean;
  runs: boolean;
  syncState: boolean;
  verifications: boolean;
}

export async function stateTables(pool: pg.Pool): Promise<StateTables> {
  const names = ['id_map', 'rejects', 'checkpoints', 'runs', 'sync_state', 'verifications'] as const;
  const r = await pool.query<Record<string, boolean>>(
    `SELECT ${names.map((n) => `to_regclass('${STATE_SCHEMA}.${n}') IS NOT NULL AS ${n}`).join(', ')}`,
  );
  const row = r.rows[0] ?? {};
  return {
    idMap: Boolean(row.id_map),
    rejects: Boolean(row.rejects),
    checkpoints: Boolean(row.checkpoints),
    runs: Boolean(row.runs),
    syncState: Boolean(row.sync_state),
    verifications: Boolean(row.verifications),
  };
}

/** Rows of one collection's table, split by who wrote them, and the registry's counts. */
export interface TargetCounts {
  /** Registry entries of the collection: documents the migration wrote. */
  migrated: number;
  /** Documents set aside and not migrated since. */
  rejected: number;
  /** Rows of the model's table. */
  rows: number;
  /** Rows whose id is in the registry (written by the migration). */
  migrationRows: number;
  /** Rows whose id is not in the registry: written by the application. */
  applicationRows: number;
}

export async function targetCounts(pool: pg.Pool, tables: StateTables, collection: string, model: SchemaModel): Promise<TargetCounts> {
  const table = qualifiedTable(model);
  const idColumn = quoteIdent(model.columnsByField.get(model.idField)?.column ?? 'id');
  const migrated = tables.idMap ? `(SELECT count(*) FROM ${S}.id_map WHERE collection = $1)` : '0';
  const migrationRows = tables.idMap ? `(SELECT count(*) FROM ${table} t WHERE EXISTS (SELECT 1 FROM ${S}.id_map m WHERE m.uuid = t.${idColumn}))` : '0';
  const rejected = !tables.rejects
    ? '0'
    : tables.idMap
      ? `(SELECT count(*) FROM ${S}.rejects r WHERE r.collection = $1 AND NOT EXISTS (SELECT 1 FROM ${S}.id_map m WHERE m.collection = r.collection AND m.source_key = r.source_key))`
      : `(SELECT count(*) FROM ${S}.rejects r WHERE r.collection = $1)`;
  const r = await pool.query<{ migrated: string; rejected: string; rows: string; migration_rows: string }>(
    `SELECT ${migrated}::bigint AS migrated, ${rejected}::bigint AS rejected, (SELECT count(*) FROM ${table})::bigint AS rows, ${migrationRows}::bigint AS migration_rows, $1::text AS c`,
    [collection],
  );
  const row = r.rows[0];
  const rows = Number(row?.rows ?? 0);
  const fromMigration = Number(row?.migration_rows ?? 0);
  return { migrated: Number(row?.migrated ?? 0), rejected: Number(row?.rejected ?? 0), rows, migrationRows: fromMigration, applicationRows: rows - fromMigration };
}

/** The checkpoints of a collection, summed. */
export interface CheckpointSummary {
  ranges: number;
  done: number;
  running: number;
  pending: number;
}

export async function checkpointSummary(pool: pg.Pool, tables: StateTables, collection: string): Promise<CheckpointSummary> {
  if (!tables.checkpoints) return { ranges: 0, done: 0, running: 0, pending: 0 };
  const r = await pool.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM ${S}.checkpoints WHERE collection = $1 GROUP BY status`, [collection]);
  const by = new Map(r.rows.map((x) => [x.status, Number(x.n)]));
  const ranges = [...by.values()].reduce((a, b) => a + b, 0);
  return { ranges, done: by.get('done') ?? 0, running: by.get('running') ?? 0, pending: ranges - (by.get('done') ?? 0) - (by.get('running') ?? 0) };
}

/** A run of the tool, as status shows it. */
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

/** The latest run that worked on the collection, and the latest migrate run that finished cleanly. */
export async function lastRuns(pool: pg.Pool, tables: StateTables, collection: string): Promise<{ last: RunInfo | null; lastCompleteMigrate: RunInfo | null }> {
  if (!tables.runs) return { last: null, lastCompleteMigrate: null };
  const covers = `(jsonb_typeof(options->'collections') = 'array' AND (options->'collections') ? $1)`;
  const [last, complete] = await Promise.all([
    pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM ${S}.runs WHERE ${covers} ORDER BY started_at DESC LIMIT 1`, [collection]),
    pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM ${S}.runs WHERE ${covers} AND command LIKE 'migrate%' AND status = 'done' AND finished_at IS NOT NULL ORDER BY started_at DESC LIMIT 1`, [collection]),
  ]);
  return { last: toRunInfo(last.rows[0]), lastCompleteMigrate: toRunInfo(complete.rows[0]) };
}

/** The incremental sync's saved cursor (hybrid_migrate.sync_state), when there is one. */
export async function syncCursor(pool: pg.Pool, tables: StateTables, collection: string): Promise<{ cursorUpdatedAt: string | null; lastSyncedAt: string | null } | null> {
  if (!tables.syncState) return null;
  const r = await pool.query<Record<string, unknown>>(`SELECT to_jsonb(s) AS j FROM ${S}.sync_state s WHERE collection = $1`, [collection]);
  const j = r.rows[0]?.j as Record<string, unknown> | undefined;
  if (!j) return null;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return { cursorUpdatedAt: text(j.cursor_updated_at), lastSyncedAt: text(j.last_synced_at) };
}
