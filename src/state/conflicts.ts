/**
 * `hybrid_migrate.conflicts`: rows kept for the application — changed by it since they were
 * migrated, or deleted in MongoDB but still changed or referenced — one row per document and
 * kind, pointing at the run that met it (that run always has its record in `runs`).
 */
import { readStateOr, stateTable, type Queryable } from './schema.js';

export type ConflictKind = 'modified-by-application' | 'deleted-in-source-but-kept';

/** Records conflicts (inside the transaction that decided to keep the rows). */
export async function recordConflicts(q: Queryable, collection: string, runId: string, kind: ConflictKind, rows: readonly { sourceKey: string; uuid: string }[]): Promise<void> {
  if (rows.length === 0) return;
  await q.query(
    `INSERT INTO ${stateTable('conflicts')} (collection, source_key, uuid, kind, run_id)
     SELECT $1, k, u, $2, $3 FROM unnest($4::text[], $5::uuid[]) AS x(k, u)
     ON CONFLICT (collection, source_key, kind) DO UPDATE SET run_id = EXCLUDED.run_id, detected_at = now()`,
    [collection, kind, runId, rows.map((r) => r.sourceKey), rows.map((r) => r.uuid)],
  );
}

/** Forgets the conflicts of documents no longer registered (rollback). */
export async function forgetUnmappedConflicts(q: Queryable, collection: string): Promise<void> {
  await readStateOr(undefined, async () => {
    await q.query(
      `DELETE FROM ${stateTable('conflicts')} c WHERE c.collection = $1
          AND NOT EXISTS (SELECT 1 FROM ${stateTable('id_map')} m WHERE m.collection = c.collection AND m.source_key = c.source_key)`,
      [collection],
    );
  });
}
