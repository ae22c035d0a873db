/**
 * Preflight of the target, before anything is written (the tool's own `hybrid_migrate` schema
 * included): PostgreSQL's catalog compared with the Prisma schema for every table the command
 * touches — tables, columns (type, precision and scale, length, timestamp precision, array or
 * not, nullability), the primary key, unique keys and foreign keys. A `numeric(12,1)` where the
 * schema says `Decimal(19,4)` would have PostgreSQL round every value silently; a missing table
 * would fail the run part-way. Every difference is listed at once (exit 3); a database without
 * any of the schema's tables names the command that applies the migrations.
 */
import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import { TargetSchemaError, type ConfigIssue } from '../core/errors.js';
import type { PrismaSchema, SchemaColumn, SchemaModel } from '../schema/prisma-schema.js';

export interface PreflightOptions {
  /** The models whose tables the command writes (their columns are compared). */
  models: readonly SchemaModel[];
  /** 'full': tables, columns, keys. 'tables': only that the tables exist (rollback deletes rows, whatever their columns). */
  depth?: 'full' | 'tables';
  /** The target as it may be shown (password masked). */
  display?: string;
}

const MIGRATE_HINT = 'Apply the application\'s migrations to the target (npx prisma migrate deploy, with DATABASE_URL set), or fix the columns listed so they match prisma/schema.prisma; nothing was written.';

/** Compares the target with the schema; throws ConfigError (exit 3) listing every difference. */
export async function preflightTarget(pool: pg.Pool, schema: PrismaSchema, opts: PreflightOptions): Promise<void> {
  const issues = await targetDifferences(pool, schema, opts);
  if (issues.length === 0) return;
  throw new TargetSchemaError(issues, { hint: MIGRATE_HINT, entity: 'PostgreSQL' });
}

interface CatalogColumn {
  table_schema: string;
  table_name: string;
  column: string;
  type: string;
  elem_typname: string;
  is_array: boolean;
  not_null: boolean;
  has_default: boolean;
  is_enum: boolean;
}

/** The differences between the target and the schema, one issue each (empty: they agree). */
export async function targetDifferences(pool: pg.Pool, schema: PrismaSchema, opts: PreflightOptions): Promise<ConfigIssue[]> {
  const where = opts.display ? ` (${opts.display})` : '';
  const models = uniqueModels(opts.models);
  const schemas = [...new Set([...schema.models.values()].map((m) => m.dbSchema))];
  // Any table of the schema at all? None: the migrations were never applied to this database.
  const allTables = [...schema.models.values()].map((m) => `${m.dbSchema}.${m.table}`);
  const present = await pool.query<{ name: string }>(
    `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[]) AND (n.nspname || '.' || c.relname) = ANY($2::text[])`,
    [schemas, allTables],
  );
  const existing = new Set(present.rows.map((r) => r.name));
  if (existing.size === 0) {
    return [
      {
        path: 'DATABASE_URL',
        message: `the target database${where} has none of the schema's ${allTables.length} tables (${allTables.slice(0, 3).join(', ')}…): its migrations were never applied. Run "npx prisma migrate deploy" against it first`,
      },
    ];
  }
  const issues: ConfigIssue[] = [];
  for (const m of models) {
    if (!existing.has(`${m.dbSchema}.${m.table}`)) issues.push({ path: `${m.dbSchema}.${m.table}`, message: `table is missing (model ${m.name})` });
  }
  if ((opts.depth ?? 'full') === 'tables') return issues;
  const checked = models.filter((m) => existing.has(`${m.dbSchema}.${m.table}`));
  if (checked.length === 0) return issues;
  const native = await nativeTypes(schema);
  const cols = await pool.query<CatalogColumn>(
    `SELECT n.nspname AS table_schema, c.relname AS table_name, a.attname AS column,
            format_type(a.atttypid, a.atttypmod) AS type,
            coalesce(et.typname, t.typname) AS elem_typname,
            t.typcategory = 'A' AS is_array, a.attnotnull AS not_null, a.atthasdef AS has_default,
            coalesce(et.typtype, t.typtype) = 'e' AS is_enum
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
      WHERE a.attnum > 0 AND NOT a.attisdropped AND (n.nspname || '.' || c.relname) = ANY($1::text[])`,
    [checked.map((m) => `${m.dbSchema}.${m.table}`)],
  );
  const byTable = new Map<string, Map<string, CatalogColumn>>();
  for (const r of cols.rows) {
    const key = `${r.table_schema}.${r.table_name}`;
    if (!byTable.has(key)) byTable.set(key, new Map());
    byTable.get(key)?.set(r.column, r);
  }
  const constraints = await keysOf(pool, checked);
  for (const m of checked) {
    const key = `${m.dbSchema}.${m.table}`;
    const actual = byTable.get(key) ?? new Map<string, CatalogColumn>();
    for (const col of m.columns) {
      const path = `${m.table}.${col.column}`;
      const a = actual.get(col.column);
      if (!a) {
        issues.push({ path, message: `column is missing (${m.name}.${col.field})` });
        continue;
      }
      const expected = expectedType(col, native.get(m.name)?.get(col.field));
      const actualType = a.is_enum ? `${a.elem_typname}${a.is_array ? '[]' : ''}` : a.type;
      if (!sameType(expected, actualType)) {
        issues.push({ path, message: `is ${actualType} in the database, the schema says ${expected} (${m.name}.${col.field}${nativeLabel(native.get(m.name)?.get(col.field))}): values would be ${lossWord(expected, actualType)}` });
      }
      if (!col.isList) {
        if (col.isRequired && !a.not_null) issues.push({ path, message: `is nullable in the database, the schema says required (${m.name}.${col.field})` });
        if (!col.isRequired && a.not_null) issues.push({ path, message: `is NOT NULL in the database, the schema says optional (${m.name}.${col.field}): a document without it would be refused` });
      }
    }
    const known = new Set(m.columns.map((c) => c.column));
    for (const a of actual.values()) {
      if (!known.has(a.column) && a.not_null && !a.has_default) {
        issues.push({ path: `${m.table}.${a.column}`, message: `is NOT NULL without a default in the database and not in the schema (model ${m.name}): every row written would be refused` });
      }
    }
    const k = constraints.get(key) ?? { primary: undefined, uniques: [], foreign: [] };
    const idColumn = m.columnsByField.get(m.idField)?.column ?? m.idField;
    if (!k.primary || k.primary.join(',') !== idColumn) {
      issues.push({ path: m.table, message: `has ${k.primary ? `primary key (${k.primary.join(', ')})` : 'no primary key'}, the schema says (${idColumn})` });
    }
    const uniqueSets = [...k.uniques, ...(k.primary ? [k.primary] : [])].map((u) => [...u].sort().join(','));
    for (const fields of m.uniques) {
      const columns = fields.map((f) => m.columnsByField.get(f)?.column ?? f);
      if (!uniqueSets.includes([...columns].sort().join(','))) {
        issues.push({ path: m.table, message: `has no unique index on (${columns.join(', ')}) (the schema's @@unique([${fields.join(', ')}]) of ${m.name})` });
      }
    }
    for (const rel of m.relations) {
      const target = schema.models.get(rel.targetModel);
      if (!target) continue;
      const from = rel.fromFields.map((f) => m.columnsByField.get(f)?.column ?? f);
      const found = k.foreign.some((fk) => fk.table === target.table && fk.columns.join(',') === from.join(','));
      if (!found) issues.push({ path: m.table, message: `has no foreign key (${from.join(', ')}) → ${target.table} (the schema's relation ${m.name}.${rel.field})` });
    }
  }
  return issues;
}

function uniqueModels(models: readonly SchemaModel[]): SchemaModel[] {
  const seen = new Map<string, SchemaModel>();
  for (const m of models) seen.set(m.name, m);
  return [...seen.values()];
}

interface TableKeys {
  primary: string[] | undefined;
  uniques: string[][];
  foreign: { table: string; columns: string[] }[];
}

async function keysOf(pool: pg.Pool, models: readonly SchemaModel[]): Promise<Map<string, TableKeys>> {
  const r = await pool.query<{ table_key: string; kind: string; columns: string[]; ref_table: string | null }>(
    `SELECT n.nspname || '.' || c.relname AS table_key, 'index:' || CASE WHEN i.indisprimary THEN 'p' ELSE 'u' END AS kind,
            array(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
            NULL::text AS ref_table
       FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE i.indisunique AND i.indpred IS NULL AND (n.nspname || '.' || c.relname) = ANY($1::text[])
     UNION ALL
     SELECT n.nspname || '.' || c.relname, 'fk',
            array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY x(attnum, ord) JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = x.attnum ORDER BY x.ord),
            rc.relname::text
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class rc ON rc.oid = k.confrelid
      WHERE k.contype = 'f' AND (n.nspname || '.' || c.relname) = ANY($1::text[])`,
    [models.map((m) => `${m.dbSchema}.${m.table}`)],
  );
  const out = new Map<string, TableKeys>();
  for (const row of r.rows) {
    const k = out.get(row.table_key) ?? { primary: undefined, uniques: [], foreign: [] };
    out.set(row.table_key, k);
    if (row.kind === 'index:p') k.primary = row.columns;
    else if (row.kind === 'index:u') k.uniques.push(row.columns);
    else if (row.ref_table) k.foreign.push({ table: row.ref_table, columns: row.columns });
  }
  return out;
}

type NativeType = [string, string[]];

/**
 * Model → field → the @db native type, read from the schema file's text (the reader keeps only
 * the limits it needs). A scan of `model X { … }` blocks' field lines, not Prisma's parser: the
 * file was parsed and validated a moment ago, and parsing it again costs a second of WebAssembly
 * before every run.
 */
async function nativeTypes(schema: PrismaSchema): Promise<Map<string, Map<string, NativeType>>> {
  const out = new Map<string, Map<string, NativeType>>();
  let text: string;
  try {
    text = await readFile(schema.path, 'utf8');
  } catch {
    return out; // without native types the defaults below apply
  }
  let model: Map<string, NativeType> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    const start = /^model\s+(\w+)\s*\{/.exec(line);
    if (start) {
      model = new Map();
      out.set(start[1] as string, model);
      continue;
    }
    if (line.startsWith('}')) {
      model = undefined;
      continue;
    }
    if (!model) continue;
    const field = /^(\w+)\s+[\w.]+(?:\[\])?\??\s.*?@db\.(\w+)(?:\(([^)]*)\))?/.exec(line);
    if (field) model.set(field[1] as string, [field[2] as string, field[3] ? field[3].split(',').map((x) => x.trim().replace(/^["']|["']$/g, '')).filter(Boolean) : []]);
  }
  return out;
}

function nativeLabel(n: NativeType | undefined): string {
  return n ? ` @db.${n[0]}${n[1].length > 0 ? `(${n[1].join(', ')})` : ''}` : '';
}

/** The column type Prisma's migration creates for a field, as PostgreSQL's format_type() writes it. */
export function expectedType(col: SchemaColumn, native: NativeType | undefined): string {
  const list = col.isList ? '[]' : '';
  if (col.kind.type === 'enum') return `${col.kind.enumName}${list}`;
  const [name, args] = native ?? [undefined, []];
  const a0 = args[0];
  let t: string;
  switch (name) {
    case 'Uuid': t = 'uuid'; break;
    case 'VarChar': t = a0 ? `character varying(${a0})` : 'character varying'; break;
    case 'Char': t = a0 ? `character(${a0})` : 'character(1)'; break;
    case 'Text': t = 'text'; break;
    case 'SmallInt': t = 'smallint'; break;
    case 'Integer': t = 'integer'; break;
    case 'BigInt': t = 'bigint'; break;
    case 'Real': t = 'real'; break;
    case 'DoublePrecision': t = 'double precision'; break;
    case 'Decimal': t = a0 ? `numeric(${a0},${args[1] ?? 0})` : 'numeric'; break;
    case 'Money': t = 'money'; break;
    case 'Boolean': t = 'boolean'; break;
    case 'Timestamp': t = a0 ? `timestamp(${a0}) without time zone` : 'timestamp without time zone'; break;
    case 'Timestamptz': t = a0 ? `timestamp(${a0}) with time zone` : 'timestamp with time zone'; break;
    case 'Date': t = 'date'; break;
    case 'Time': t = a0 ? `time(${a0}) without time zone` : 'time without time zone'; break;
    case 'Timetz': t = a0 ? `time(${a0}) with time zone` : 'time with time zone'; break;
    case 'Json': t = 'json'; break;
    case 'JsonB': t = 'jsonb'; break;
    case 'ByteA': t = 'bytea'; break;
    case undefined:
      t = defaultType(col);
      break;
    default:
      t = name.toLowerCase();
  }
  return `${t}${list}`;
}

/** Prisma's PostgreSQL type for a field without @db. */
function defaultType(col: SchemaColumn): string {
  switch (col.kind.type) {
    case 'uuid':
      return 'uuid';
    case 'text':
      return col.kind.maxLength ? `character varying(${col.kind.maxLength})` : 'text';
    case 'int':
      return 'integer';
    case 'bigint':
      return 'bigint';
    case 'float':
      return 'double precision';
    case 'decimal':
      return `numeric(${col.kind.precision},${col.kind.scale})`;
    case 'boolean':
      return 'boolean';
    case 'timestamp':
      return 'timestamp(3) without time zone';
    case 'json':
      return 'jsonb';
    case 'bytes':
      return 'bytea';
    default:
      return 'text';
  }
}

/** Equal types; precision 6 written or not is the same timestamp. */
function sameType(expected: string, actual: string): boolean {
  const norm = (s: string) => s.replace(/^(timestamp|time)\(6\)/, '$1').replace(/"/g, '');
  return norm(expected) === norm(actual);
}

function lossWord(expected: string, actual: string): string {
  if (/^numeric|^timestamp|^time/.test(expected) && /^numeric|^timestamp|^time/.test(actual)) return 'rounded or refused by PostgreSQL';
  if (/character/.test(actual)) return 'cut short or refused by PostgreSQL';
  return 'converted or refused by PostgreSQL';
}

/** The models a command's collections write: each collection's model and child models. */
export function modelsOfCollections(mapping: { collections: ReadonlyMap<string, { model: SchemaModel; children: readonly { model: SchemaModel }[] }> }, names: readonly string[]): SchemaModel[] {
  return names.flatMap((n) => {
    const c = mapping.collections.get(n);
    return c ? [c.model, ...c.children.map((ch) => ch.model)] : [];
  });
}
