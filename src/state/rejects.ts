/**
 * `hybrid_migrate.rejects`: documents set aside, with the original document (canonical
 * Extended JSON), the field path and the reason. One row per document: a document rejected
 * again for the same reason is left as it is.
 */
import { readStateOr, stateTable, type Queryable } from './schema.js';

export interface RejectRecord {
  sourceKey: string;
  fieldPath: string;
  reason: string;
  /** The original document as canonical Extended JSON. */
  document: string;
}

/** Records rejects (inside the batch's transaction). Returns how many were new or changed. */
export async function recordRejects(q: Queryable, collection: string, runId: string, rejects: readonly RejectRecord[]): Promise<number> {
  if (rejects.length === 0) return 0;
  const t = stateTable('rejects');
  const r = await q.query(
    `INSERT INTO ${t} (collection, source_key, run_id, field_path, reason, document)
     SELECT $1, k, $2, f, r, d FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) AS x(k, f, r, d)
     ON CONFLICT (collection, source_key) DO UPDATE
       SET run_id = EXCLUDED.run_id, field_path = EXCLUDED.field_path, reason = EXCLUDED.reason, document = EXCLUDED.document, created_at = now()
       WHERE (${t}.reason, ${t}.document) IS DISTINCT FROM (EXCLUDED.reason, EXCLUDED.document)`,
    [collection, runId, rejects.map((x) => x.sourceKey), rejects.map((x) => x.fieldPath), rejects.map((x) => x.reason), rejects.map((x) => x.document)],
  );
  return r.rowCount ?? 0;
}

/** The reason recorded for each of `keys` that has a reject. */
export async function rejectReasons(q: Queryable, collection: string, keys: readonly string[]): Promise<Map<string, string>> {
  const r = await q.query<{ k: string; r: string }>(`SELECT source_key AS k, reason AS r FROM ${stateTable('rejects')} WHERE collection = $1 AND source_key = ANY($2::text[])`, [collection, keys]);
  return new Map(r.rows.map((row) => [row.k, row.r]));
}

/**
 * Of `keys`, those whose documents are set aside for good: rejected and not registered since
 * (a reject a later --restart or --detect-changes wrote after all is none). Nothing when the
 * state does not exist yet.
 */
export async function standingRejects(q: Queryable, collection: string, keys: readonly string[]): Promise<string[]> {
  if (keys.length === 0) return [];
  return readStateOr<string[]>([], async () => {
    const r = await q.query<{ k: string }>(
      `SELECT x.source_key AS k FROM ${stateTable('rejects')} x
        WHERE x.collection = $1 AND x.source_key = ANY($2::text[])
          AND NOT EXISTS (SELECT 1 FROM ${stateTable('id_map')} m WHERE m.collection = x.collection AND m.source_key = x.source_key)`,
      [collection, keys],
    );
    return r.rows.map((row) => row.k);
  });
}

/** The first rejects of a collection in source-key order. */
export async function rejectSamples(q: Queryable, collection: string, limit: number): Promise<{ sourceKey: string; fieldPath: string; reason: string }[]> {
  return readStateOr([], async () => {
    const r = await q.query<{ k: string; f: string; r: string }>(
      `SELECT source_key AS k, field_path AS f, reason AS r FROM ${stateTable('rejects')} WHERE collection = $1 ORDER BY source_key LIMIT $2`,
      [collection, limit],
    );
    return r.rows.map((row) => ({ sourceKey: row.k, fieldPath: row.f, reason: row.r }));
  });
}

/** Forgets the rejects of documents just written (inside that batch's transaction). */
export async function forgetWrittenRejects(q: Queryable, collection: string, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await q.query(`DELETE FROM ${stateTable('rejects')} WHERE collection = $1 AND source_key = ANY($2::text[])`, [collection, keys]);
}

/** Rejects recorded per collection. */
export async function rejectsPerCollection(q: Queryable, collections: readonly string[]): Promise<Map<string, number>> {
  return readStateOr(new Map(), async () => {
    const r = await q.query<{ collection: string; n: string }>(`SELECT collection, count(*) AS n FROM ${stateTable('rejects')} WHERE collection = ANY($1::text[]) GROUP BY collection`, [collections]);
    return new Map(r.rows.map((row) => [row.collection, Number(row.n)]));
  });
}

/** Forgets a collection's rejects (rollback), or only those of one run. */
export async function forgetRejects(q: Queryable, collection: string, runId: string | undefined): Promise<void> {
  await q.query(`DELETE FROM ${stateTable('rejects')} WHERE collection = $1 AND ($2::uuid IS NULL OR run_id = $2::uuid)`, [collection, runId ?? null]);
}
