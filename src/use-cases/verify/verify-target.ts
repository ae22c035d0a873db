/**
 * What verify reads from PostgreSQL: the registry entries and rejects of a batch of source
 * documents, their rows and child rows read back as comparable text, and the rows of the
 * migration's id space that nothing in the source accounts for. Read-only.
 */
import type pg from 'pg';
import { isMigrationChild } from '../../state/ownership.js';
import type { MappedCollection, MappedColumn } from '../../core/mapping.js';
import type { SchemaColumn } from '../../schema/prisma-schema.js';
import { LONG_TEXT_BYTES, LONG_TEXTS, type TargetRow, type TargetRows } from '../../core/verify-diff.js';
import { writtenColumns } from '../../core/transform.js';
import { qualifiedTable, quoteIdent } from '../../schema/prisma-schema.js';
import { registeredUuids, registeredRowCount as registeredRows, registryPage, unregisteredRows as unregistered, type RegistryEntry, type RegistryTarget } from '../../state/registry.js';
import { rejectReasons } from '../../state/rejects.js';
import { keptConflicts } from '../../state/conflicts.js';
import type { DocumentChange } from '../../state/ownership.js';

/** Registry state of a batch of source keys. */
export interface KeyClassification {
  /** source_key → uuid registered in id_map. */
  migrated: Map<string, string>;
  /**
   * Source keys with no id_map entry that the migration left to the application (it had
   * written the document's row itself) → the conflict recorded.
   */
  leftToApplication: Map<string, DocumentChange>;
  /** source keys with a reject, no id_map entry and not left to the application → the reason recorded. */
  rejected: Map<string, string>;
}

export async function classifyKeys(pool: pg.Pool, collection: string, keys: readonly string[]): Promise<KeyClassification> {
  const [migrated, rejected] = await Promise.all([registeredUuids(pool, collection, keys), rejectReasons(pool, collection, keys)]);
  const unregistered = keys.filter((k) => !migrated.has(k));
  const left = new Map((unregistered.length > 0 ? await keptConflicts(pool, collection, unregistered) : []).map((c) => [c.sourceKey, c]));
  return { migrated, leftToApplication: left, rejected: new Map([...rejected].filter(([k]) => !migrated.has(k) && !left.has(k))) };
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

/**
 * The select-list of `columns` (written columns, in order) read back as text. A long text
 * value is not read back: its column is null and the row's LONG_TEXTS lists its digest
 * (diffDocument compares it with the source's).
 */
function selectList(columns: readonly MappedColumn[]): string {
  const long: string[] = [];
  const list = columns.map((c, i) => {
    const name = quoteIdent(c.column.column);
    if (c.column.isList || c.column.kind.type !== 'text') return `${targetSelect(c.column, 't')} AS ${name}`;
    const ref = `t.${name}::text`;
    const isLong = `octet_length(${ref}) > ${LONG_TEXT_BYTES}`;
    long.push(`CASE WHEN ${isLong} THEN '${i}:' || encode(sha256(convert_to(${ref}, 'UTF8')), 'hex') || ':' || octet_length(convert_to(${ref}, 'UTF8')) END`);
    return `CASE WHEN ${isLong} THEN NULL ELSE ${ref} END AS ${name}`;
  });
  if (long.length > 0) list.push(`NULLIF(concat_ws(' ', ${long.join(', ')}), '') AS ${LONG_TEXTS}`);
  return list.join(', ');
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
      const position = child.columns.find((c) => c.source.kind === 'position')?.column.column;
      for (const row of rows.rows) {
        const owner = out.get(row[PARENT] as string);
        // Child rows of a parent row that is gone cannot exist (foreign key); ignore defensively.
        if (!owner) continue;
        // A line the application added to a migrated order is its own row: not compared with the
        // source, but named, so that the document counts as changed by the application (before,
        // the line made it "mismatched", a migration defect, exit 1).
        // (A version-5 id out of place, a line of the migration's moved to another position, is
        // still compared: that is a difference to report, not a row of the application's.)
        const id = row[child.idColumn.column];
        const at = position === undefined ? NaN : Number(row[position]);
        if (id && id[14] !== '5' && !isMigrationChild({ id, parent: row[PARENT] as string, position: at }, child.model.name)) {
          owner.foreign ??= { table: child.model.table, row: id };
          continue;
        }
        (owner.children[ci] as TargetRow[]).push(row);
      }
    }),
  );
  return out;
}

/** A page of a collection's registry entries, with whether their row still exists. */
export type { RegistryEntry };

/** The collection's main table as the registry queries name it. */
function registryTarget(mapped: MappedCollection): RegistryTarget {
  const model = mapped.model;
  return { collection: mapped.name, tableName: model.table, table: qualifiedTable(model), idColumn: quoteIdent(model.columnsByField.get(model.idField)?.column ?? 'id') };
}

/** Registry entries after `afterUuid` in UUID order, each with whether its row still exists. */
export async function readRegistryPage(pool: pg.Pool, mapped: MappedCollection, afterUuid: string, limit: number): Promise<RegistryEntry[]> {
  return registryPage(pool, registryTarget(mapped), afterUuid, limit);
}

/** Rows in the migration's id space that the registry does not know: copies of migrated rows. */
export async function unregisteredRows(pool: pg.Pool, mapped: MappedCollection, limit: number): Promise<{ count: number; uuids: string[] }> {
  return unregistered(pool, registryTarget(mapped), limit);
}

/** Rows of the collection's table that id_map registers for it. */
export async function registeredRowCount(pool: pg.Pool, mapped: MappedCollection): Promise<number> {
  return registeredRows(pool, registryTarget(mapped));
}
