/**
 * The second pass of a foreign-key cycle (workspace.owner → users → workspaces): references
 * recorded in `deferred_refs` while their rows were written with NULL are set now that the
 * target collection is loaded; dangling ones follow the field's policy. Rows the
 * application changed in between are left alone.
 */
import type pg from 'pg';
import type { MigrationMapping } from '../core/mapping.js';
import { qualifiedTable, quoteIdent } from '../schema/prisma-schema.js';
import { readStateOr, rowHashSql, stateTable, type Queryable } from './schema.js';
import { withTransaction } from '../target/transaction.js';
import { unchangedSql } from './ownership.js';

/** Resolves the deferred references of `collections`; returns how many rows were updated. */
export async function resolveDeferredReferences(pool: pg.Pool, mapping: MigrationMapping, collections: readonly string[]): Promise<number> {
  let updated = 0;
  for (const edge of mapping.deferred) {
    if (!collections.includes(edge.collection)) continue;
    const collection = mapping.collections.get(edge.collection);
    const col = collection?.columns.find((c) => c.column.field === edge.field);
    if (!collection || col?.source.kind !== 'reference') continue;
    const table = qualifiedTable(collection.model);
    const id = quoteIdent(collection.model.columnsByField.get(collection.model.idField)?.column ?? 'id');
    const column = quoteIdent(col.column.column);
    const target = col.source.targetModel;
    const targetTable = qualifiedTable(target);
    const targetId = quoteIdent(target.columnsByField.get(target.idField)?.column ?? 'id');
    const extra = collection.extraColumn ? quoteIdent(collection.extraColumn.column) : undefined;
    const keep = col.source.onMissing === 'keep' && extra !== undefined;
    await withTransaction(pool, async (client) => {
      // Only rows still as the migration wrote them (hash unchanged) are completed.
      const unchanged = unchangedSql('t');
      const set = await client.query(
        `UPDATE ${table} t SET ${column} = d.target_uuid
           FROM ${stateTable('deferred_refs')} d, ${stateTable('id_map')} m
          WHERE d.collection = $1 AND d.field = $2 AND t.${id} = d.row_uuid AND m.uuid = t.${id} AND ${unchanged}
            AND EXISTS (SELECT 1 FROM ${targetTable} x WHERE x.${targetId} = d.target_uuid)
          RETURNING t.${id}`,
        [edge.collection, edge.field],
      );
      updated += set.rowCount ?? 0;
      const touched: string[] = set.rows.map((r: Record<string, string>) => Object.values(r)[0] as string);
      if (keep) {
        const kept = await client.query(
          `UPDATE ${table} t SET ${extra} = coalesce(t.${extra}, '{}'::jsonb)
                 || jsonb_build_object('$orphans', coalesce(t.${extra} -> '$orphans', '{}'::jsonb) || jsonb_build_object($3::text, d.source_text))
             FROM ${stateTable('deferred_refs')} d, ${stateTable('id_map')} m
            WHERE d.collection = $1 AND d.field = $2 AND t.${id} = d.row_uuid AND m.uuid = t.${id} AND ${unchanged}
              AND NOT EXISTS (SELECT 1 FROM ${targetTable} x WHERE x.${targetId} = d.target_uuid)
          RETURNING t.${id}`,
          [edge.collection, edge.field, col.label],
        );
        touched.push(...kept.rows.map((r: Record<string, string>) => Object.values(r)[0] as string));
      }
      // The recorded hash follows our own completion of the row, and only ours.
      await client.query(
        `UPDATE ${stateTable('id_map')} m SET row_hash = ${rowHashSql('t')}
           FROM ${table} t WHERE t.${id} = ANY($1::uuid[]) AND m.uuid = t.${id}`,
        [touched],
      );
      await client.query(`DELETE FROM ${stateTable('deferred_refs')} WHERE collection = $1 AND field = $2`, [edge.collection, edge.field]);
    });
  }
  return updated;
}

/** A reference written NULL for now, to be set once its target is loaded (a foreign-key cycle). */
export interface DeferredRecord {
  rowUuid: string;
  field: string;
  targetCollection: string;
  targetUuid: string;
  sourceText: string;
}

/** Records deferred references (inside the batch's transaction). */
export async function recordDeferred(q: Queryable, collection: string, runId: string, rows: readonly DeferredRecord[]): Promise<void> {
  if (rows.length === 0) return;
  await q.query(
    `INSERT INTO ${stateTable('deferred_refs')} (collection, row_uuid, field, target_collection, target_uuid, source_text, run_id)
     SELECT $1, u, f, tc, tu, st, $2 FROM unnest($3::uuid[], $4::text[], $5::text[], $6::uuid[], $7::text[]) AS x(u, f, tc, tu, st)
     ON CONFLICT (collection, row_uuid, field) DO UPDATE SET target_uuid = EXCLUDED.target_uuid, source_text = EXCLUDED.source_text, run_id = EXCLUDED.run_id`,
    [collection, runId, rows.map((r) => r.rowUuid), rows.map((r) => r.field), rows.map((r) => r.targetCollection), rows.map((r) => r.targetUuid), rows.map((r) => r.sourceText)],
  );
}

/** Deferred references still to resolve for `collections`. */
export async function countDeferred(q: Queryable, collections: readonly string[]): Promise<number> {
  return readStateOr(0, async () => {
    const r = await q.query<{ n: string }>(`SELECT count(*) AS n FROM ${stateTable('deferred_refs')} WHERE collection = ANY($1::text[])`, [collections]);
    return Number(r.rows[0]?.n ?? 0);
  });
}

/** Forgets deferred references of rows deleted in this transaction (rollback). */
export async function forgetDeferredOf(q: Queryable, collection: string, rowUuids: readonly string[]): Promise<void> {
  await q.query(`DELETE FROM ${stateTable('deferred_refs')} WHERE collection = $1 AND row_uuid = ANY($2::uuid[])`, [collection, rowUuids]);
}

/** Forgets deferred references whose row is no longer registered (rollback). */
export async function forgetUnmappedDeferred(q: Queryable, collection: string): Promise<void> {
  await q.query(
    `DELETE FROM ${stateTable('deferred_refs')} d WHERE d.collection = $1 AND NOT EXISTS (SELECT 1 FROM ${stateTable('id_map')} m WHERE m.uuid = d.row_uuid)`,
    [collection],
  );
}

/**
 * Documents of `collection` whose child rows referring to the collection itself were held back
 * (recorded under the child field's label, which holds `[]`: never a Prisma field's name, so
 * never one of a cycle's deferred references), a page at a time, with their source keys (null:
 * no longer registered, nothing to complete).
 */
export async function heldChildRowDocuments(q: Queryable, collection: string, limit: number): Promise<{ uuid: string; sourceKey: string | null }[]> {
  const r = await q.query<{ uuid: string; source_key: string | null }>(
    `SELECT d.row_uuid::text AS uuid, min(m.source_key) AS source_key
       FROM ${stateTable('deferred_refs')} d LEFT JOIN ${stateTable('id_map')} m ON m.uuid = d.row_uuid AND m.collection = d.collection
      WHERE d.collection = $1 AND strpos(d.field, '[]') > 0
      GROUP BY d.row_uuid ORDER BY d.row_uuid LIMIT $2`,
    [collection, limit],
  );
  return r.rows.map((row) => ({ uuid: row.uuid, sourceKey: row.source_key }));
}

/** Forgets the held-back child rows of documents just written whole (inside that batch's transaction). */
export async function forgetHeldChildRows(q: Queryable, collection: string, rowUuids: readonly string[]): Promise<void> {
  await q.query(`DELETE FROM ${stateTable('deferred_refs')} WHERE collection = $1 AND row_uuid = ANY($2::uuid[]) AND strpos(field, '[]') > 0`, [collection, rowUuids]);
}
