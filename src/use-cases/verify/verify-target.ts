/**
 * What verify reads from PostgreSQL: the registry entries and rejects of a batch of source
 * documents, their rows and child rows read back as comparable text, and the rows of the
 * migration's id space that nothing in the source accounts for. Read-only.
 */
import type pg from 'pg';
import type { MappedCollection, MappedColumn } from '../../core/mapping.js';
import type { SchemaColumn } from '../../schema/prisma-schema.js';
import type { TargetRow, TargetRows } from '../../core/verify-diff.js';
import { writtenColumns } from '../../core/transform.js';
import { qualifiedTable, quoteIdent } from '../../schema/prisma-schema.js';
import { stateTable } from '../../state/state-store.js';

/** Registry state of a batch of source keys. */
export interface KeyClassification {
  /** source_key → uuid registered in id_map. */
  migrated: Map<string, string>;
  /** source keys with a reject and no id_map entry. */
  rejected: Set<string>;
}

export async function classifyKeys(pool: pg.Pool, collection: string, keys: readonly string[]): Promise<KeyClassification> {
  const [m, r] = await Promise.all([
    pool.query<{ k: string; u: string }>(`SELECT source_key AS k, uuid::text AS u FROM ${stateTable('id_map')} WHERE collection = $1 AND source_key = ANY($2::text[])`, [collection, keys]),
    pool.query<{ k: string }>(`SELECT source_key AS k FROM ${stateTable('rejects')} WHERE collection = $1 AND source_key = ANY($2::text[])`, [collection, keys]),
  ]);
  const migrated = new Map(m.rows.map((row) => [row.k, row.u]));
  return { migrated, rejected: new Set(r.rows.map((row) => row.k).filter((k) => !migrated.has(k))) };
}

/**
 * The SQL expression that reads a column back as text for `sameValue`: instants as epoch
 * milliseconds (independent of the session's TimeZone and DateStyle), lists as JSON arrays,
 * everything else with its own text output.
 */
function targetSelect(column: Pick<SchemaColumn, 'kind' | 'isList' | 'column'>, alias: string): string {
  const ref = `${alias}.${quoteIdent(column.column)}`;
  if (column.isList) return `to_jsonb(${ref})::text`;
  if (column.kind.type === 'timestamp') return `(extract(epoch from ${ref}) * 1000)::text`;
  return `${ref}::text`;
}

const ID = '__hm_id';
const PARENT = '__hm_parent';

function selectList(columns: readonly MappedColumn[]): string {
  return columns.map((c) => `${targetSelect(c.column, 't')} AS ${quoteIdent(c.column.column)}`).join(', ');
}

/** The rows (main and children) of `uuids`, read back as text, keyed by the main row's uuid. */
export async function readTargetRows(pool: pg.Pool, mapped: MappedCollection, uuids: readonly string[]): Promise<Map<string, TargetRows>> {
  const out = new Map<string, TargetRows>();
  if (uuids.length === 0) return out;
  const model = mapped.model;
  const idColumn = quoteIdent(model.columnsByField.get(model.idField)?.column ?? 'id');
  const main = await pool.query<Record<string, string | null>>(
    `SELECT t.${idColumn}::text AS ${ID}, ${selectList(writtenColumns(mapped.columns))} FROM ${qualifiedTable(model)} t WHERE t.${idColumn} = ANY($1::uuid[])`,
    [uuids],
  );
  for (const row of main.rows) {
    out.set(row[ID] as string, { main: row, children: mapped.children.map(() => []) });
  }
  await Promise.all(
    mapped.children.map(async (child, ci) => {
      const parent = child.columns.find((c) => c.source.kind === 'parent');
      if (!parent) return;
      const rows = await pool.query<Record<string, string | null>>(
        `SELECT t.${quoteIdent(parent.column.column)}::text AS ${PARENT}, ${selectList(writtenColumns(child.columns))}
           FROM ${qualifiedTable(child.model)} t WHERE t.${quoteIdent(parent.column.column)} = ANY($1::uuid[])`,
        [uuids],
      );
      for (const row of rows.rows) {
        const owner = out.get(row[PARENT] as string);
        // Child rows of a parent row that is gone cannot exist (foreign key); ignore defensively.
        if (owner) (owner.children[ci] as TargetRow[]).push(row);
      }
    }),
  );
  return out;
}

/** A page of a collection's registry entries, with whether their row still exists. */
export interface RegistryEntry {
  sourceKey: string;
  uuid: string;
  present: boolean;
}

/**
 * Registry entries of a collection after `afterUuid`, in UUID order (keyset pagination on the
 * uuid index: memory stays flat). For ObjectId keys UUID order is ObjectId order, which lets
 * the caller merge them with MongoDB's ids read in order.
 */
export async function readRegistryPage(pool: pg.Pool, mapped: MappedCollection, afterUuid: string, limit: number): Promise<RegistryEntry[]> {
  const model = mapped.model;
  const idColumn = quoteIdent(model.columnsByField.get(model.idField)?.column ?? 'id');
  const r = await pool.query<{ k: string; u: string; p: boolean }>(
    `SELECT m.source_key AS k, m.uuid::text AS u, (t.${idColumn} IS NOT NULL) AS p
       FROM ${stateTable('id_map')} m LEFT JOIN ${qualifiedTable(model)} t ON t.${idColumn} = m.uuid
      WHERE m.collection = $1 AND m.uuid > $2::uuid
      ORDER BY m.uuid LIMIT $3`,
    [mapped.name, afterUuid, limit],
  );
  return r.rows.map((row) => ({ sourceKey: row.k, uuid: row.u, present: row.p }));
}

/**
 * Rows of the table in the migration's id space (UUID version 8: from an ObjectId; version 5:
 * from another `_id`) that id_map does not register: copies of migrated rows. The application
 * only generates v4/v7 ids, so its own rows are never among them.
 */
export async function unregisteredRows(pool: pg.Pool, mapped: MappedCollection, limit: number): Promise<{ count: number; uuids: string[] }> {
  const model = mapped.model;
  const idColumn = quoteIdent(model.columnsByField.get(model.idField)?.column ?? 'id');
  const where = `substr(t.${idColumn}::text, 15, 1) IN ('5', '8') AND NOT EXISTS (SELECT 1 FROM ${stateTable('id_map')} m WHERE m.uuid = t.${idColumn})`;
  const r = await pool.query<{ u: string; n: string }>(
    `SELECT t.${idColumn}::text AS u, count(*) OVER () AS n FROM ${qualifiedTable(model)} t WHERE ${where} ORDER BY t.${idColumn} LIMIT $1`,
    [limit],
  );
  return { count: Number(r.rows[0]?.n ?? 0), uuids: r.rows.map((row) => row.u) };
}

/** Rows of the collection's table that id_map registers for it. */
export async function registeredRowCount(pool: pg.Pool, mapped: MappedCollection): Promise<number> {
  const model = mapped.model;
  const idColumn = quoteIdent(model.columnsByField.get(model.idField)?.column ?? 'id');
  const r = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${qualifiedTable(model)} t JOIN ${stateTable('id_map')} m ON m.uuid = t.${idColumn} AND m.collection = $1`,
    [mapped.name],
  );
  return Number(r.rows[0]?.n ?? 0);
}
