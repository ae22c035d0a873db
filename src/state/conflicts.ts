/**
 * `hybrid_migrate.conflicts`: rows kept for the application — changed by it since they were
 * migrated, or deleted in MongoDB but still changed or referenced — one row per document and
 * kind, pointing at the run that met it (that run always has its record in `runs`).
 */
import { readStateOr, stateTable, type Queryable } from './schema.js';

/**
 * - `modified-by-application`: the application changed one of the document's rows (its main row or a child row);
 * - `deleted-by-application`: the application deleted one of them (the document is not brought back);
 * - `deleted-in-source-but-kept`: deleted in MongoDB, kept because the application changed or references it.
 */
export type ConflictKind = 'modified-by-application' | 'deleted-by-application' | 'deleted-in-source-but-kept';

/** A conflict: the document (source key, main row's UUID) and, when known, the row found changed or deleted (its table and id). */
export interface ConflictRow {
  sourceKey: string;
  uuid: string;
  table?: string;
  row?: string;
}

/**
 * Records conflicts (inside the transaction that decided about the rows): `kept` (the rows were
 * left for the application) or `overwritten` (the collection's onConflict 'overwrite' replaced
 * or re-inserted them: reported, never silent).
 */
export async function recordConflicts(
  q: Queryable,
  collection: string,
  runId: string,
  kind: ConflictKind,
  rows: readonly ConflictRow[],
  resolution: 'kept' | 'overwritten' = 'kept',
): Promise<void> {
  if (rows.length === 0) return;
  await q.query(
    `INSERT INTO ${stateTable('conflicts')} (collection, source_key, uuid, kind, run_id, row_table, row_uuid, resolution)
     SELECT $1, k, u, $2, $3, rt, ru, $8 FROM unnest($4::text[], $5::uuid[], $6::text[], $7::uuid[]) AS x(k, u, rt, ru)
     ON CONFLICT (collection, source_key, kind) DO UPDATE SET run_id = EXCLUDED.run_id, detected_at = now(), resolution = EXCLUDED.resolution,
       row_table = COALESCE(EXCLUDED.row_table, ${stateTable('conflicts')}.row_table), row_uuid = COALESCE(EXCLUDED.row_uuid, ${stateTable('conflicts')}.row_uuid)`,
    [collection, kind, runId, rows.map((r) => r.sourceKey), rows.map((r) => r.uuid), rows.map((r) => r.table ?? null), rows.map((r) => r.row ?? null), resolution],
  );
}

/** Of `keys`, the documents with a conflict recorded as kept for the application (changed or deleted by it), with the row it names. */
export async function keptConflicts(
  q: Queryable,
  collection: string,
  keys: readonly string[],
): Promise<{ sourceKey: string; uuid: string; kind: 'modified-by-application' | 'deleted-by-application'; table: string; row: string }[]> {
  if (keys.length === 0) return [];
  const r = await q.query<{ k: string; u: string; kind: 'modified-by-application' | 'deleted-by-application'; t: string | null; row: string | null }>(
    `SELECT c.source_key AS k, c.uuid::text AS u, c.kind, c.row_table AS t, c.row_uuid::text AS row FROM ${stateTable('conflicts')} c
      WHERE c.collection = $1 AND c.source_key = ANY($2::text[]) AND ${keptForApplication('c')}`,
    [collection, keys],
  );
  return r.rows.map((c) => ({ sourceKey: c.k, uuid: c.u, kind: c.kind, table: c.t ?? '', row: c.row ?? c.u }));
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

/**
 * SQL: the document `key` (an SQL expression) of the collection `collection` (another) has a
 * conflict kept for the application. For a document the registry does not name, that is a
 * document the migration left to the application because the application had written its row
 * itself: accounted for, neither pending nor rejected.
 */
export function keptForApplicationSql(collection: string, key: string): string {
  return `EXISTS (SELECT 1 FROM ${stateTable('conflicts')} c WHERE c.collection = ${collection} AND c.source_key = ${key} AND ${keptForApplication('c')})`;
}

/** SQL: the conflict row `alias` keeps a document for the application (changed, deleted or written by it), as keptConflicts reads them. */
export function keptForApplication(alias: string): string {
  return `${alias}.resolution = 'kept' AND ${alias}.kind IN ('modified-by-application', 'deleted-by-application')`;
}

/** SQL: the conflict row `alias` records a row --detect-deletes kept although its document was deleted in MongoDB. */
export function keptAfterSourceDelete(alias: string): string {
  return `${alias}.resolution = 'kept' AND ${alias}.kind = 'deleted-in-source-but-kept'`;
}
