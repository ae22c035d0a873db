/**
 * The owned-rows rule, in one place: is a row the migration's, and unchanged since it wrote it?
 *
 * - A main row is the migration's iff `id_map` registers its id; it is unchanged iff the hash
 *   of the row as PostgreSQL stores it equals the hash recorded when the migration wrote it.
 * - A child row is the migration's iff its id is exactly childUuid(parent, model, position):
 *   a version-5 id alone proves nothing (the application could write one).
 *
 * Used by the batch writer's upsert, --detect-deletes, the deferred references' second pass
 * and rollback, so the four can never disagree.
 */
import { childUuid } from '../core/ids.js';
import { rowHashSql, stateTable, type Queryable } from './schema.js';

/** A child row as read for the ownership test. */
export interface ChildRow {
  id: string;
  parent: string;
  position: number;
}

/** Whether a child row is the migration's: its id is exactly what the migration derives from parent and position. */
export function isMigrationChild(row: ChildRow, modelName: string): boolean {
  return Number.isSafeInteger(row.position) && row.position >= 0 && childUuid(row.parent, modelName, row.position) === row.id.toLowerCase();
}

/**
 * The SQL condition under which an upsert may replace the existing row `alias` (id column
 * `idColumn`): only rows the migration wrote; with 'skip', only while unchanged since.
 */
export function replaceableRowSql(alias: string, idColumn: string, onConflict: 'skip' | 'overwrite'): string {
  const recorded = `(SELECT m.row_hash FROM ${stateTable('id_map')} m WHERE m.uuid = ${alias}.${idColumn})`;
  return onConflict === 'skip' ? `${rowHashSql(alias)} = ${recorded}` : `${recorded} IS NOT NULL`;
}

/** The SQL condition "row `alias` is the migration's and unchanged", given the id_map row `m` joined on it. */
export function unchangedSql(alias: string, registryAlias = 'm'): string {
  return `${rowHashSql(alias)} = ${registryAlias}.row_hash`;
}

/** Of `uuids`, the rows of `table` the migration wrote and the application has not changed (all of them when `overwrite`). */
export async function unchangedOwnedRows(q: Queryable, table: string, idColumn: string, uuids: readonly string[], overwrite: boolean): Promise<string[]> {
  const r = await q.query<{ id: string }>(
    `SELECT t.${idColumn}::text AS id FROM ${table} t JOIN ${stateTable('id_map')} m ON m.uuid = t.${idColumn}
      WHERE t.${idColumn} = ANY($1::uuid[]) AND (${unchangedSql('t')} OR $2)`,
    [uuids, overwrite],
  );
  return r.rows.map((row) => row.id);
}

/** Records the current state of rows the migration itself just changed (a mark, a deferred reference), so they still count as unchanged. */
export async function refreshRowHashes(q: Queryable, table: string, idColumn: string, uuids: readonly string[], opts: { forgetSourceHash?: boolean } = {}): Promise<void> {
  if (uuids.length === 0) return;
  const sourceHash = opts.forgetSourceHash ? ', source_hash = NULL' : '';
  await q.query(`UPDATE ${stateTable('id_map')} m SET row_hash = ${rowHashSql('t')}${sourceHash} FROM ${table} t WHERE t.${idColumn} = m.uuid AND m.uuid = ANY($1::uuid[])`, [uuids]);
}
