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
import { rowHashFormat, rowHashInSql, rowHashLikeSql, rowHashSql, stateTable, type Queryable, type RowHashFormat } from './schema.js';

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
  return `EXISTS (SELECT 1 FROM ${stateTable('id_map')} m WHERE m.uuid = ${alias}.${idColumn}${onConflict === 'skip' ? ` AND ${unchangedSql(alias)}` : ''})`;
}

/** The SQL condition "row `alias` is the migration's and unchanged", given the id_map row `m` joined on it. */
export function unchangedSql(alias: string, registryAlias = 'm'): string {
  return `${rowHashLikeSql(alias, `${registryAlias}.row_hash`)} = ${registryAlias}.row_hash`;
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

/** A child table as the owned-rows rule reads it (quoted identifiers, except `tableName`). */
export interface ChildTableRef {
  /** Qualified, quoted table. */
  table: string;
  /** The table's name as conflicts record it. */
  tableName: string;
  idColumn: string;
  parentColumn: string;
  positionColumn: string;
  /** The Prisma model's name (childUuid's namespace). */
  modelName: string;
}

/**
 * Per parent, the evidence of its child rows as the migration wrote them: one entry
 * `<child table index>.<position>.<hash of the row as PostgreSQL stores it>` per child row
 * that is exactly the migration's (childUuid of parent and position), space-separated, in
 * table then position order. Recorded in id_map.child_rows with the parent's registry entry;
 * compared with the current rows before anything overwrites or deletes the document. Every
 * parent of `parents` gets an entry ('' when it has no child rows), its hashes in the format
 * `formats` gives for it (the current one when absent). One indexed read per child table.
 */
export async function childRowsDigest(q: Queryable, children: readonly ChildTableRef[], parents: readonly string[], formats: ReadonlyMap<string, RowHashFormat> = NONE): Promise<Map<string, string>> {
  const parts = new Map<string, string[]>(parents.map((p) => [p.toLowerCase(), []]));
  if (parents.length === 0 || children.length === 0) return new Map([...parts].map(([p]) => [p, '']));
  for (const [i, child] of children.entries()) {
    const r = await q.query<ChildRow & ChildHashes>(
      `SELECT c.${child.idColumn}::text AS id, c.${child.parentColumn}::text AS parent, c.${child.positionColumn} AS position, ${childHashColumnsSql('c', formats.values())}
         FROM ${child.table} c WHERE c.${child.parentColumn} = ANY($1::uuid[]) ORDER BY 2, 3`,
      [parents],
    );
    for (const row of r.rows) {
      if (!isMigrationChild(row, child.modelName)) continue;
      parts.get(row.parent)?.push(`${i}.${row.position}.${childHashOf(row, formats.get(row.parent) ?? 'xmin')}`);
    }
  }
  return new Map([...parts].map(([p, list]) => [p, list.join(' ')]));
}

const NONE: ReadonlyMap<string, RowHashFormat> = new Map();

/** A child row's hash in each format asked for (childHashColumnsSql): the current one always. */
export interface ChildHashes {
  h_xmin: string;
  h_text?: string;
  h_legacy?: string;
}

/** The select-list of a child row's hashes: the current format's, and each of `formats`. */
export function childHashColumnsSql(alias: string, formats: Iterable<RowHashFormat>): string {
  return [...new Set<RowHashFormat>(['xmin', ...formats])].map((f) => `${rowHashInSql(alias, f)} AS h_${f}`).join(', ');
}

/** A child row's hash in `format` (selected by childHashColumnsSql). */
export function childHashOf(row: ChildHashes, format: RowHashFormat): string {
  return row[`h_${format}`] as string;
}

/** The format of a recorded child-rows digest's hashes (its parent's current digest must be made in it too). */
export function digestFormat(digest: string): RowHashFormat {
  const space = digest.indexOf(' ');
  const first = space < 0 ? digest : digest.slice(0, space);
  return first === '' ? 'xmin' : rowHashFormat(first.split('.')[2] ?? '');
}

/** Of recorded digests by parent uuid, the format of each (lowercase) parent's digest that is not the current one. */
export function digestFormats(recorded: Iterable<readonly [string, string]>): Map<string, RowHashFormat> {
  const out = new Map<string, RowHashFormat>();
  for (const [parent, digest] of recorded) {
    const format = digestFormat(digest);
    if (format !== 'xmin') out.set(parent.toLowerCase(), format);
  }
  return out;
}

/** The first child row that differs between the recorded and the current digest: changed or deleted by the application. */
export function childRowChange(
  parent: string,
  recorded: string,
  current: string,
  children: readonly ChildTableRef[],
): { kind: 'modified-by-application' | 'deleted-by-application'; table: string; row: string } | undefined {
  if (recorded === current) return undefined;
  const parse = (s: string) => new Map(s.split(' ').filter(Boolean).map((e) => { const [t, pos, h] = e.split('.'); return [`${t}.${pos}`, h as string] as const; }));
  const before = parse(recorded);
  const now = parse(current);
  const at = (key: string) => {
    const [t, pos] = key.split('.').map(Number);
    const child = children[t as number] as ChildTableRef;
    return { table: child.tableName, row: childUuid(parent, child.modelName, pos as number) };
  };
  for (const [key, h] of before) {
    if (!now.has(key)) return { kind: 'deleted-by-application', ...at(key) };
    if (now.get(key) !== h) return { kind: 'modified-by-application', ...at(key) };
  }
  for (const key of now.keys()) if (!before.has(key)) return { kind: 'modified-by-application', ...at(key) };
  return undefined;
}

/** How the application changed a migrated document: the kind and the first row (table, id) found changed or deleted. */
export interface DocumentChange {
  sourceKey: string;
  uuid: string;
  kind: 'modified-by-application' | 'deleted-by-application';
  table: string;
  row: string;
}

/**
 * Of the documents `keys` of a collection, those the migration registered and the application
 * changed since, as a unit: its main row deleted or changed, or one of the migration's child
 * rows changed or deleted (entries registered before child rows were recorded are judged on
 * their main row only). Documents never migrated are not in the result.
 */
export async function changedDocuments(
  q: Queryable,
  main: { collection: string; table: string; tableName: string; idColumn: string },
  children: readonly ChildTableRef[],
  keys: readonly string[],
): Promise<Map<string, DocumentChange>> {
  const out = new Map<string, DocumentChange>();
  if (keys.length === 0) return out;
  const r = await q.query<{ k: string; u: string; row_hash: string; child_rows: string | null; present: boolean; h: string | null }>(
    `SELECT m.source_key AS k, m.uuid::text AS u, m.row_hash, m.child_rows, (t.${main.idColumn} IS NOT NULL) AS present, ${rowHashLikeSql('t', 'm.row_hash')} AS h
       FROM ${stateTable('id_map')} m LEFT JOIN ${main.table} t ON t.${main.idColumn} = m.uuid
      WHERE m.collection = $1 AND m.source_key = ANY($2::text[])`,
    [main.collection, keys],
  );
  const withChildren: { k: string; u: string; recorded: string }[] = [];
  for (const row of r.rows) {
    if (!row.present) out.set(row.k, { sourceKey: row.k, uuid: row.u, kind: 'deleted-by-application', table: main.tableName, row: row.u });
    else if (row.h !== row.row_hash) out.set(row.k, { sourceKey: row.k, uuid: row.u, kind: 'modified-by-application', table: main.tableName, row: row.u });
    else if (row.child_rows !== null && children.length > 0) withChildren.push({ k: row.k, u: row.u, recorded: row.child_rows });
  }
  if (withChildren.length === 0) return out;
  const current = await childRowsDigest(q, children, withChildren.map((d) => d.u), digestFormats(withChildren.map((d) => [d.u, d.recorded])));
  for (const d of withChildren) {
    const change = childRowChange(d.u, d.recorded, current.get(d.u) ?? '', children);
    if (change) out.set(d.k, { sourceKey: d.k, uuid: d.u, ...change });
  }
  return out;
}

/**
 * The digest childRowsDigest makes, for the child rows a document has just been written with,
 * made in Node from its rows (nothing read back): `<table index>.<position>.#` per child row,
 * in table then position order, '#' standing for the hash every row of the write shares (the
 * registry puts in the xmin of the document's main row: one transaction wrote them all).
 */
export function writtenChildRowsTemplate(rows: readonly { table: number; position: number }[]): string {
  // A conversion makes child rows in that order already: sorted only when they are not.
  const before = (a: { table: number; position: number }, b: { table: number; position: number }) => a.table - b.table || a.position - b.position;
  let ordered = true;
  for (let i = 1; i < rows.length && ordered; i++) ordered = before(rows[i - 1] as (typeof rows)[number], rows[i] as (typeof rows)[number]) <= 0;
  return (ordered ? rows : [...rows].sort(before)).map((r) => `${r.table}.${r.position}.#`).join(' ');
}
