/**
 * What earlier runs already did, read from the tool's own schema when it exists: checkpoints
 * (ranges done, documents read/written/rejected), rows in the id registry, rejects, the last
 * run. Read-only: a plan never creates the schema and never writes to PostgreSQL.
 */
import type pg from 'pg';
import { stateSchemaExists } from '../../state/schema.js';
import { latestRun } from '../../state/runs.js';
import { checkpointTotals } from '../../state/checkpoints.js';
import { registeredPerCollection } from '../../state/registry.js';
import { rejectsPerCollection } from '../../state/rejects.js';

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
  if (!(await stateSchemaExists(pool))) return { stateSchema: false, lastRun: null, collections: {} };
  const out: EarlierRuns = { stateSchema: true, lastRun: await latestRun(pool), collections: {} };
  const [totals, registered, rejects] = await Promise.all([checkpointTotals(pool, collections), registeredPerCollection(pool, collections), rejectsPerCollection(pool, collections)]);
  for (const name of collections) {
    const c = totals.find((r) => r.collection === name);
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
