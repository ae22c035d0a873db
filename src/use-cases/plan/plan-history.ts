/**
 * What earlier runs already did, read from the tool's own schema when it exists: checkpoints
 * (ranges done, documents read/written/rejected), rows in the id registry, rejects, the last
 * run. Read-only: a plan never creates the schema and never writes to PostgreSQL.
 */
import type pg from 'pg';
import { STATE_SCHEMA, stateTable } from '../../state/state-store.js';

/** One collection's history. */
export interface CollectionHistory {
  ranges: number;
  rangesDone: number;
  read: number;
  written: number;
  rejected: number;
  /** Rows registered in hybrid_migrate.id_map (written by the migration and still known). */
  registered: number;
  /** Documents currently in hybrid_migrate.rejects. */
  rejectsRecorded: number;
  /** Mapping fingerprints recorded by the checkpoints. */
  fingerprints: string[];
  /** The configuration or schema changed since: migrate will ask for --restart. */
  mappingChanged: boolean;
}

export interface EarlierRuns {
  /** Whether the hybrid_migrate schema exists (false: nothing was ever migrated into this database). */
  stateSchema: boolean;
  lastRun: { id: string; command: string; status: string; startedAt: string; finishedAt: string | null } | null;
  collections: Record<string, CollectionHistory>;
}

export async function readEarlierRuns(pool: pg.Pool, collections: readonly string[]): Promise<EarlierRuns> {
  const exists = await pool.query<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [`${STATE_SCHEMA}.checkpoints`]);
  if (!exists.rows[0]?.present) return { stateSchema: false, lastRun: null, collections: {} };
  const out: EarlierRuns = { stateSchema: true, lastRun: null, collections: {} };
  const runs = await pool.query<{ id: string; command: string; status: string; started_at: Date; finished_at: Date | null }>(
    `SELECT id, command, status, started_at, finished_at FROM ${stateTable('runs')} ORDER BY started_at DESC LIMIT 1`,
  );
  const last = runs.rows[0];
  if (last) out.lastRun = { id: last.id, command: last.command, status: last.status, startedAt: last.started_at.toISOString(), finishedAt: last.finished_at?.toISOString() ?? null };
  const cps = await pool.query<{ collection: string; ranges: string; done: string; read: string; written: string; rejected: string; fingerprints: string[] }>(
    `SELECT collection, count(*) AS ranges, count(*) FILTER (WHERE status = 'done') AS done, sum(docs_read) AS read,
            sum(docs_written) AS written, sum(docs_rejected) AS rejected, array_agg(DISTINCT mapping_fingerprint) AS fingerprints
       FROM ${stateTable('checkpoints')} WHERE collection = ANY($1::text[]) GROUP BY collection`,
    [collections],
  );
  const counts = async (table: 'id_map' | 'rejects') => {
    const r = await pool.query<{ collection: string; n: string }>(`SELECT collection, count(*) AS n FROM ${stateTable(table)} WHERE collection = ANY($1::text[]) GROUP BY collection`, [collections]);
    return new Map(r.rows.map((row) => [row.collection, Number(row.n)]));
  };
  const registered = await counts('id_map');
  const rejects = await counts('rejects');
  for (const name of collections) {
    const c = cps.rows.find((r) => r.collection === name);
    if (!c && !registered.has(name) && !rejects.has(name)) continue;
    out.collections[name] = {
      ranges: Number(c?.ranges ?? 0),
      rangesDone: Number(c?.done ?? 0),
      read: Number(c?.read ?? 0),
      written: Number(c?.written ?? 0),
      rejected: Number(c?.rejected ?? 0),
      registered: registered.get(name) ?? 0,
      rejectsRecorded: rejects.get(name) ?? 0,
      fingerprints: c?.fingerprints ?? [],
      mappingChanged: false,
    };
  }
  return out;
}
