/**
 * `hybrid_migrate.id_map`, the ObjectId→UUID registry: which source document became which
 * row, in which run, with the hash of the row as PostgreSQL stored it (the evidence that the
 * row is still the migration's, unchanged) and the hash of what the document became (so a
 * document read again whose rows would be identical is not written again).
 */
import { ObjectId } from 'mongodb';
import { uuidToObjectId } from '../core/ids.js';
import { ejson } from '../source/partitions.js';
import { qualifiedTable, quoteIdent, type SchemaModel } from '../schema/prisma-schema.js';
import { readStateOr, rowHashSql, stateTable, type Queryable, type StateTables } from './schema.js';
import { keptAfterSourceDelete, keptForApplication, keptForApplicationSql } from './conflicts.js';

/** Where the registry entries of a batch point: the collection's main table and its id column (quoted). */
export interface RegistryTarget {
  collection: string;
  /** The model's table name as recorded in id_map.target_table. */
  tableName: string;
  /** Qualified, quoted table. */
  table: string;
  /** Quoted id column. */
  idColumn: string;
}

/**
 * Registers the rows just written (inside the batch's transaction), in ONE statement: each
 * entry takes the row's hash (rowHashSql: its xmin) from its main row, read by primary key,
 * the digest of its child rows (ownership's writtenChildRowsTemplate, the main row's hash put
 * in for '#': the same write wrote them; null when the collection has no child tables), and
 * the document's conversion hash. Only the written documents are passed.
 */
export async function registerRows(
  q: Queryable,
  target: RegistryTarget,
  runId: string,
  entries: { keys: readonly string[]; uuids: readonly string[]; hashes: readonly string[]; children?: readonly string[] },
): Promise<void> {
  const id = `t.${target.idColumn}`;
  const children = entries.children !== undefined;
  await q.query(
    `INSERT INTO ${stateTable('id_map')} (collection, source_key, uuid, target_table, run_id, row_hash, source_hash, child_rows)
     SELECT $1, k.key, ${id}, $2, $3, w.h, k.hash, ${children ? `replace(k.children, '#', w.h)` : 'NULL'}
       FROM unnest($4::text[], $5::uuid[], $6::text[]${children ? ', $7::text[]' : ''}) AS k(key, id, hash${children ? ', children' : ''})
       JOIN ${target.table} t ON ${id} = k.id
       CROSS JOIN LATERAL (SELECT ${rowHashSql('t')} AS h) w
     ON CONFLICT (collection, source_key) DO UPDATE
       SET uuid = EXCLUDED.uuid, run_id = EXCLUDED.run_id, row_hash = EXCLUDED.row_hash, source_hash = EXCLUDED.source_hash, child_rows = EXCLUDED.child_rows, migrated_at = now()`,
    [target.collection, target.tableName, runId, entries.keys, entries.uuids, entries.hashes, ...(children ? [entries.children] : [])],
  );
}

/** The conversion hash recorded for each of `keys` (absent: never migrated). */
export async function recordedSourceHashes(q: Queryable, collection: string, keys: readonly string[]): Promise<Map<string, string | null>> {
  const r = await q.query<{ source_key: string; source_hash: string | null }>(
    `SELECT source_key, source_hash FROM ${stateTable('id_map')} WHERE collection = $1 AND source_key = ANY($2::text[])`,
    [collection, keys],
  );
  return new Map(r.rows.map((row) => [row.source_key, row.source_hash]));
}

/** Whether the migration registered any row of the collection. */
export async function hasRegisteredRows(q: Queryable, collection: string): Promise<boolean> {
  return readStateOr(false, async () => (await q.query(`SELECT 1 FROM ${stateTable('id_map')} WHERE collection = $1 LIMIT 1`, [collection])).rows.length > 0);
}

/** The highest ObjectId the migration registered for a collection, as Extended JSON (its UUIDs sort like ObjectIds). */
export async function highestRegisteredObjectId(q: Queryable, collection: string): Promise<string | null> {
  const r = await q.query<{ u: string | null }>(
    `SELECT max(uuid::text) AS u FROM ${stateTable('id_map')} WHERE collection = $1 AND substr(uuid::text, 15, 1) = '8'`,
    [collection],
  );
  const hex = r.rows[0]?.u ? uuidToObjectId(r.rows[0].u) : null;
  return hex ? ejson(new ObjectId(hex)) : null;
}

/** Of `keys`, those the registry or the rejects table knows. */
export async function knownSourceKeys(q: Queryable, collection: string, keys: readonly string[]): Promise<Set<string>> {
  const r = await q.query<{ source_key: string }>(
    `SELECT source_key FROM ${stateTable('id_map')} WHERE collection = $1 AND source_key = ANY($2::text[])
     UNION ALL SELECT source_key FROM ${stateTable('rejects')} WHERE collection = $1 AND source_key = ANY($2::text[])`,
    [collection, keys],
  );
  return new Set(r.rows.map((row) => row.source_key));
}

/** One registry entry. */
export interface RegistryKey {
  source_key: string;
  uuid: string;
}

/** Registry entries of ObjectId documents with a UUID in (after, upTo], in UUID (= ObjectId) order. */
export async function objectIdEntriesBetween(q: Queryable, collection: string, after: string, upTo: string, limit: number): Promise<RegistryKey[]> {
  const r = await q.query<RegistryKey>(
    `SELECT source_key, uuid::text AS uuid FROM ${stateTable('id_map')}
      WHERE collection = $1 AND uuid > $2::uuid AND uuid <= $3::uuid AND source_key LIKE 'oid:%' ORDER BY uuid LIMIT ${Number(limit)}`,
    [collection, after, upTo],
  );
  return r.rows;
}

/** Registry entries of documents whose `_id` is not an ObjectId, after `after` in UUID order. */
export async function otherIdEntriesAfter(q: Queryable, collection: string, after: string, limit: number): Promise<RegistryKey[]> {
  const r = await q.query<RegistryKey>(
    `SELECT source_key, uuid::text AS uuid FROM ${stateTable('id_map')} WHERE collection = $1 AND uuid > $2::uuid AND source_key NOT LIKE 'oid:%' ORDER BY uuid LIMIT ${Number(limit)}`,
    [collection, after],
  );
  return r.rows;
}

/** Forgets registry entries (their rows were deleted in the same transaction). */
export async function forgetEntries(q: Queryable, uuids: readonly string[]): Promise<void> {
  if (uuids.length > 0) await q.query(`DELETE FROM ${stateTable('id_map')} WHERE uuid = ANY($1::uuid[])`, [uuids]);
}

/** Source key → UUID registered, for a batch of source keys. */
export async function registeredUuids(q: Queryable, collection: string, keys: readonly string[]): Promise<Map<string, string>> {
  const r = await q.query<{ k: string; u: string }>(`SELECT source_key AS k, uuid::text AS u FROM ${stateTable('id_map')} WHERE collection = $1 AND source_key = ANY($2::text[])`, [
    collection,
    keys,
  ]);
  return new Map(r.rows.map((row) => [row.k, row.u]));
}

/** A registry entry with whether its row is still in the table. */
export interface RegistryEntry {
  sourceKey: string;
  uuid: string;
  present: boolean;
  /** --detect-deletes found its document deleted in MongoDB and kept the row on purpose (a conflict `deleted-in-source-but-kept`). */
  keptDeleted: boolean;
}

/**
 * Registry entries of a collection after `afterUuid`, in UUID order, each with whether its row
 * still exists (keyset pagination on the uuid index: memory stays flat). For ObjectId keys UUID
 * order is ObjectId order, which lets the caller merge them with MongoDB's ids read in order.
 */
export async function registryPage(q: Queryable, target: RegistryTarget, afterUuid: string, limit: number): Promise<RegistryEntry[]> {
  const r = await q.query<{ k: string; u: string; p: boolean; d: boolean }>(
    `SELECT m.source_key AS k, m.uuid::text AS u, (t.${target.idColumn} IS NOT NULL) AS p,
            EXISTS (SELECT 1 FROM ${stateTable('conflicts')} c WHERE c.collection = $1 AND c.source_key = m.source_key AND ${keptAfterSourceDelete('c')}) AS d
       FROM ${stateTable('id_map')} m LEFT JOIN ${target.table} t ON t.${target.idColumn} = m.uuid
      WHERE m.collection = $1 AND m.uuid > $2::uuid
      ORDER BY m.uuid LIMIT $3`,
    [target.collection, afterUuid, limit],
  );
  return r.rows.map((row) => ({ sourceKey: row.k, uuid: row.u, present: row.p, keptDeleted: row.d }));
}

/**
 * Rows of the table in the migration's id space (UUID version 8: from an ObjectId; version 5:
 * from another `_id`) that id_map does not register: copies of migrated rows. The application
 * generates v4/v7 ids for its own rows; a row it wrote under a document's UUID, which the
 * migration then left to it (a conflict kept, naming the row), is not among them.
 */
export async function unregisteredRows(q: Queryable, target: RegistryTarget, limit: number): Promise<{ count: number; uuids: string[] }> {
  const id = target.idColumn;
  const where = `substr(t.${id}::text, 15, 1) IN ('5', '8') AND NOT EXISTS (SELECT 1 FROM ${stateTable('id_map')} m WHERE m.uuid = t.${id})
    AND NOT EXISTS (SELECT 1 FROM ${stateTable('conflicts')} c WHERE c.collection = $2 AND c.row_uuid = t.${id} AND c.resolution = 'kept')`;
  const r = await q.query<{ u: string; n: string }>(`SELECT t.${id}::text AS u, count(*) OVER () AS n FROM ${target.table} t WHERE ${where} ORDER BY t.${id} LIMIT $1`, [limit, target.collection]);
  return { count: Number(r.rows[0]?.n ?? 0), uuids: r.rows.map((row) => row.u) };
}

/** Rows of the collection's table that id_map registers for it. */
export async function registeredRowCount(q: Queryable, target: RegistryTarget): Promise<number> {
  const r = await q.query<{ n: string }>(`SELECT count(*) AS n FROM ${target.table} t JOIN ${stateTable('id_map')} m ON m.uuid = t.${target.idColumn} AND m.collection = $1`, [
    target.collection,
  ]);
  return Number(r.rows[0]?.n ?? 0);
}

/** Registry entries per collection. */
export async function registeredPerCollection(q: Queryable, collections: readonly string[]): Promise<Map<string, number>> {
  return readStateOr(new Map(), async () => {
    const r = await q.query<{ collection: string; n: string }>(`SELECT collection, count(*) AS n FROM ${stateTable('id_map')} WHERE collection = ANY($1::text[]) GROUP BY collection`, [collections]);
    return new Map(r.rows.map((row) => [row.collection, Number(row.n)]));
  });
}

/**
 * Refreshes the planner's statistics of the registry before it is read page by page in UUID
 * order. Right after a bulk load, autovacuum has often not analyzed it yet: measured on 1M
 * orders, PostgreSQL then expected 4,933 rows for the collection instead of 967,128 and sorted
 * all of them for every page of 1,000 (2.1 s a page, verify at a standstill); after ANALYZE the
 * uuid index serves each page in 17 ms. ANALYZE reads a sample and blocks no reader or writer.
 */
export async function analyzeRegistry(q: Queryable): Promise<void> {
  await q.query(`ANALYZE ${stateTable('id_map')}`);
}

/** Per collection, who wrote what: registry entries, rejects, and the table's rows by the migration and by the application. */
export interface TargetCounts {
  /** Registry entries of the collection: documents the migration wrote. */
  migrated: number;
  /** Documents set aside and not migrated since. */
  rejected: number;
  /** Documents never migrated because the application had written their row itself (a conflict kept for it). */
  leftToApplication: number;
  /** Rows of the model's table. */
  rows: number;
  /** Rows whose id is in the registry (written by the migration). */
  migrationRows: number;
  /** Rows whose id is not in the registry: written by the application. */
  applicationRows: number;
  /** Registered documents --detect-deletes found deleted in MongoDB and kept (still referenced, or changed by the application). */
  deletedButKept: number;
}

export async function targetCounts(q: Queryable, tables: StateTables, collection: string, model: SchemaModel): Promise<TargetCounts> {
  const table = qualifiedTable(model);
  const idColumn = quoteIdent(model.columnsByField.get(model.idField)?.column ?? 'id');
  const migrated = tables.idMap ? `(SELECT count(*) FROM ${stateTable('id_map')} WHERE collection = $1)` : '0';
  const migrationRows = tables.idMap ? `(SELECT count(*) FROM ${table} t WHERE EXISTS (SELECT 1 FROM ${stateTable('id_map')} m WHERE m.uuid = t.${idColumn}))` : '0';
  // The same precedence as classifySourceKeys: registered, else left to the application, else rejected.
  const registered = (key: string) => registeredSql(tables, '$1', key);
  const kept = (key: string) => (tables.conflicts ? keptForApplicationSql('$1', key) : 'false');
  const rejected = tables.rejects ? `(SELECT count(*) FROM ${stateTable('rejects')} r WHERE r.collection = $1 AND NOT ${registered('r.source_key')} AND NOT ${kept('r.source_key')})` : '0';
  const leftToApplication = tables.conflicts
    ? `(SELECT count(DISTINCT c.source_key) FROM ${stateTable('conflicts')} c WHERE c.collection = $1 AND ${keptForApplication('c')} AND NOT ${registered('c.source_key')})`
    : '0';
  const deletedButKept = tables.conflicts
    ? `(SELECT count(DISTINCT c.source_key) FROM ${stateTable('conflicts')} c WHERE c.collection = $1 AND ${keptAfterSourceDelete('c')} AND ${registered('c.source_key')})`
    : '0';
  const r = await q.query<{ migrated: string; rejected: string; left: string; rows: string; migration_rows: string; deleted_kept: string }>(
    `SELECT ${migrated}::bigint AS migrated, ${rejected}::bigint AS rejected, ${leftToApplication}::bigint AS left, (SELECT count(*) FROM ${table})::bigint AS rows, ${migrationRows}::bigint AS migration_rows, ${deletedButKept}::bigint AS deleted_kept, $1::text AS c`,
    [collection],
  );
  const row = r.rows[0];
  const rows = Number(row?.rows ?? 0);
  const fromMigration = Number(row?.migration_rows ?? 0);
  return {
    migrated: Number(row?.migrated ?? 0),
    rejected: Number(row?.rejected ?? 0),
    leftToApplication: Number(row?.left ?? 0),
    rows,
    migrationRows: fromMigration,
    applicationRows: rows - fromMigration,
    deletedButKept: Number(row?.deleted_kept ?? 0),
  };
}

/** SQL: the registry has the document `key` of the collection `collection` (both SQL expressions); false without a registry. */
function registeredSql(tables: StateTables, collection: string, key: string): string {
  return tables.idMap ? `EXISTS (SELECT 1 FROM ${stateTable('id_map')} m WHERE m.collection = ${collection} AND m.source_key = ${key})` : 'false';
}

/**
 * Of a batch of source keys: how many the registry has, how many were left to the application
 * (it had written their row: a conflict kept for it), how many only the rejects, how many none
 * of these (pending).
 */
export async function classifySourceKeys(
  q: Queryable,
  tables: StateTables,
  collection: string,
  keys: readonly string[],
): Promise<{ migrated: number; leftToApplication: number; rejected: number; pending: number }> {
  if (!tables.idMap && !tables.rejects && !tables.conflicts) return { migrated: 0, leftToApplication: 0, rejected: 0, pending: keys.length };
  const inMap = registeredSql(tables, '$2', 'k');
  const kept = tables.conflicts ? keptForApplicationSql('$2', 'k') : 'false';
  const inRejects = tables.rejects ? `EXISTS (SELECT 1 FROM ${stateTable('rejects')} r WHERE r.collection = $2 AND r.source_key = k)` : 'false';
  const r = await q.query<{ migrated: string; left: string; rejected: string; pending: string }>(
    `SELECT count(*) FILTER (WHERE m) AS migrated, count(*) FILTER (WHERE NOT m AND kp) AS left, count(*) FILTER (WHERE NOT m AND NOT kp AND rj) AS rejected,
            count(*) FILTER (WHERE NOT m AND NOT kp AND NOT rj) AS pending
       FROM (SELECT ${inMap} AS m, ${kept} AS kp, ${inRejects} AS rj FROM unnest($1::text[]) AS u(k)) x`,
    [keys, collection],
  );
  const row = r.rows[0];
  return { migrated: Number(row?.migrated ?? 0), leftToApplication: Number(row?.left ?? 0), rejected: Number(row?.rejected ?? 0), pending: Number(row?.pending ?? 0) };
}
