/**
 * Every foreign key that points at a table, read from pg_catalog rather than from the Prisma
 * schema: the application (or a DBA) may have added foreign keys Prisma does not know about,
 * and a rollback that missed one would let PostgreSQL's ON DELETE action reach the
 * application's rows.
 */
import type pg from 'pg';
import { quoteIdent } from '../../schema/prisma-schema.js';
import { stateTable } from '../../state/schema.js';

/** One foreign key `table(fromColumns) → target(toColumns)`, identifiers already quoted. */
export interface ReferencingKey {
  constraint: string;
  /** The referencing table, `"schema"."table"`. */
  table: string;
  /** `schema.table`, unquoted, for messages. */
  label: string;
  fromColumns: string[];
  toColumns: string[];
  /** Every referencing column accepts NULL: the reference can be cleared instead of blocking. */
  nullable: boolean;
  /** The referencing table's primary key when it is a single uuid column (how rows are told apart), else undefined. */
  idColumn: string | undefined;
  /**
   * The referencing table is the child table of a configured collection (post_likes of posts):
   * its parent column. A row there with a version-5 id under a registered parent is presumed
   * the migration's child row (as staysCondition presumes), for the reason a rollback gives.
   */
  childOf?: { parentColumn: string };
}

interface FkRow {
  constraint: string;
  schema: string;
  table: string;
  from_cols: string[];
  to_cols: string[];
  nullable: boolean;
  pk_cols: string[] | null;
  pk_is_uuid: boolean | null;
}

const SQL = `
SELECT c.conname::text AS constraint, rn.nspname::text AS schema, rc.relname::text AS table,
       (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS from_cols,
       (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS to_cols,
       (SELECT bool_and(NOT a.attnotnull) FROM unnest(c.conkey) k(attnum)
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS nullable,
       (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_constraint p CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = p.conrelid AND a.attnum = k.attnum
         WHERE p.conrelid = c.conrelid AND p.contype = 'p') AS pk_cols,
       (SELECT bool_and(a.atttypid = 'uuid'::regtype) FROM pg_constraint p CROSS JOIN LATERAL unnest(p.conkey) k(attnum)
          JOIN pg_attribute a ON a.attrelid = p.conrelid AND a.attnum = k.attnum
         WHERE p.conrelid = c.conrelid AND p.contype = 'p') AS pk_is_uuid
  FROM pg_constraint c
  JOIN pg_class rc ON rc.oid = c.conrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
 WHERE c.contype = 'f' AND c.confrelid = to_regclass($1)
 ORDER BY rn.nspname, rc.relname, c.conname`;

/** The foreign keys referencing `qualifiedTable` (`"schema"."table"`), from every schema. */
export async function referencingKeys(client: pg.ClientBase, qualifiedTable: string): Promise<ReferencingKey[]> {
  const r = await client.query<FkRow>(SQL, [qualifiedTable]);
  return r.rows.map((row) => ({
    constraint: row.constraint,
    table: `${quoteIdent(row.schema)}.${quoteIdent(row.table)}`,
    label: `${row.schema}.${row.table}`,
    fromColumns: row.from_cols.map(quoteIdent),
    toColumns: row.to_cols.map(quoteIdent),
    nullable: Boolean(row.nullable),
    idColumn: row.pk_cols?.length === 1 && row.pk_is_uuid ? quoteIdent(row.pk_cols[0] as string) : undefined,
  }));
}

/** `r.a = t.x AND r.b = t.y` for a key, with the given aliases. */
export function joinCondition(key: ReferencingKey, referencing: string, target: string): string {
  return key.fromColumns.map((c, i) => `${referencing}.${c} = ${target}.${key.toColumns[i] as string}`).join(' AND ');
}

/** SQL: the referencing row `r` is presumed a child row the migration wrote for a migrated document (see ReferencingKey.childOf). */
export function migrationChildSql(key: ReferencingKey, r: string): string {
  if (!key.childOf || !key.idColumn) return 'false';
  return `(substr(${r}.${key.idColumn}::text, 15, 1) = '5' AND EXISTS (SELECT 1 FROM ${stateTable('id_map')} mp WHERE mp.uuid = ${r}.${key.childOf.parentColumn}))`;
}
