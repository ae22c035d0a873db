/**
 * The application's Prisma schema, read exactly as Prisma reads it: schema.prisma is
 * parsed by Prisma's own parser (@prisma/prisma-schema-wasm, the DMMF that
 * `prisma generate` uses), then reduced to what the migration needs: tables, columns,
 * column kinds with their limits, relations and unique constraints.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../core/errors.js';
import { dmmfDatamodelJson } from './prisma-dmmf.js';

/** The kind of PostgreSQL value a column holds, with the limits a value must respect. */
export type ColumnKind =
  | { type: 'uuid' }
  | { type: 'text'; maxLength?: number }
  | { type: 'int' }
  | { type: 'bigint' }
  | { type: 'float' }
  | { type: 'decimal'; precision: number; scale: number }
  | { type: 'boolean' }
  | { type: 'timestamp' }
  | { type: 'json' }
  | { type: 'bytes' }
  | { type: 'enum'; enumName: string; values: readonly string[] };

export interface SchemaColumn {
  /** Prisma field name (what configuration and the application use). */
  field: string;
  /** PostgreSQL column name (@map). */
  column: string;
  kind: ColumnKind;
  isList: boolean;
  isRequired: boolean;
  isId: boolean;
  hasDefault: boolean;
  /** The schema's @default when it is a literal (true, 0, 'pending'); absent for functions. */
  defaultLiteral?: string | number | boolean;
  /** The schema's @default when it is a function: 'now', 'uuid', 'autoincrement', 'dbgenerated'… */
  defaultFunction?: string;
  isUpdatedAt: boolean;
}

export interface SchemaRelation {
  /** Relation field name on this model, e.g. `createdBy`. */
  field: string;
  /** Scalar foreign-key fields on this model, e.g. `['createdById']`. */
  fromFields: string[];
  /** Referenced model, e.g. `User`. */
  targetModel: string;
  /** Referenced fields on the target, e.g. `['id']`. */
  toFields: string[];
  isRequired: boolean;
  onDelete: string | undefined;
}

export interface SchemaModel {
  name: string;
  table: string;
  /** PostgreSQL schema holding the table (Prisma multiSchema), `public` by default. */
  dbSchema: string;
  columns: SchemaColumn[];
  columnsByField: ReadonlyMap<string, SchemaColumn>;
  idField: string;
  /** A primary key of several fields (`@@id([orderId, position])`): the migration cannot write such a model. */
  compositeId?: string[];
  relations: SchemaRelation[];
  /** Unique constraints (each a list of Prisma field names), the primary key excluded. */
  uniques: string[][];
}

export interface PrismaSchema {
  path: string;
  models: ReadonlyMap<string, SchemaModel>;
  enums: ReadonlyMap<string, readonly string[]>;
}

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'enum' | 'object' | 'unsupported';
  isList: boolean;
  isRequired: boolean;
  isUnique: boolean;
  isId: boolean;
  hasDefaultValue: boolean;
  default?: unknown;
  isUpdatedAt: boolean;
  type: string;
  nativeType?: [string, string[]] | null;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
}
interface DmmfModel {
  name: string;
  dbName: string | null;
  schema: string | null;
  fields: DmmfField[];
  primaryKey: { fields: string[] } | null;
  uniqueFields: string[][];
}
interface DmmfDatamodel {
  models: DmmfModel[];
  enums: { name: string; values: { name: string; dbName: string | null }[] }[];
}

/** Reads and parses a schema.prisma file. Throws ConfigError (exit 3) when it is missing or invalid. */
export async function loadPrismaSchema(path: string): Promise<PrismaSchema> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ConfigError([{ path: 'schema', message: `cannot read Prisma schema "${path}": ${(cause as Error).message}` }], {
      hint: 'Pass --schema <path to schema.prisma> or run from the project that holds prisma/schema.prisma.',
      cause,
    });
  }
  const worker = new URL('./prisma-schema-worker.js', import.meta.url);
  // Compiled: parse in a worker so the parser's memory is freed. From TypeScript sources (tests): in process.
  if (!existsSync(fileURLToPath(worker))) return parsePrismaSchema(text, path);
  const json = await new Promise<string>((resolve, reject) => {
    const w = new Worker(worker, { workerData: { text }, execArgv: [] });
    w.once('message', (m: { ok: boolean; json?: string; message?: string }) => (m.ok ? resolve(m.json as string) : reject(new Error(m.message))));
    w.once('error', reject);
  }).catch((cause: unknown) => {
    throw invalidSchema(path, cause);
  });
  return schemaFromDatamodel(JSON.parse(json) as DmmfDatamodel, path);
}

/** Parses schema text with Prisma's own parser, in this thread. */
export function parsePrismaSchema(text: string, path = 'schema.prisma'): PrismaSchema {
  let datamodel: DmmfDatamodel;
  try {
    datamodel = JSON.parse(dmmfDatamodelJson(text)) as DmmfDatamodel;
  } catch (cause) {
    throw invalidSchema(path, cause);
  }
  return schemaFromDatamodel(datamodel, path);
}

function invalidSchema(path: string, cause: unknown): ConfigError {
  return new ConfigError([{ path: 'schema', message: `Prisma cannot parse "${path}": ${prismaErrorMessage(cause)}` }], {
    hint: 'Run "npx prisma validate" to see the error in context.',
    cause,
  });
}

function schemaFromDatamodel(datamodel: DmmfDatamodel, path: string): PrismaSchema {
  const enums = new Map(datamodel.enums.map((e) => [e.name, e.values.map((v) => v.dbName ?? v.name)]));
  const models = new Map<string, SchemaModel>();
  for (const m of datamodel.models) models.set(m.name, toModel(m, enums));
  return { path, models, enums };
}

function prismaErrorMessage(cause: unknown): string {
  const raw = cause instanceof Error ? cause.message : String(cause);
  let text: string;
  try {
    text = (JSON.parse(raw) as { message?: string }).message ?? raw;
  } catch {
    // Pure: the engine's message is not JSON, so it is the text itself; nothing is lost.
    text = raw;
  }
  // Prisma colours its message for a terminal: the escapes would reach logs and --json as noise.
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '').split('\n').slice(0, 6).join(' ').replace(/\s+/g, ' ').trim();
}

function toModel(m: DmmfModel, enums: ReadonlyMap<string, readonly string[]>): SchemaModel {
  const columns: SchemaColumn[] = [];
  const relations: SchemaRelation[] = [];
  for (const f of m.fields) {
    if (f.kind === 'object') {
      if (f.relationFromFields && f.relationFromFields.length > 0) {
        relations.push({
          field: f.name,
          fromFields: f.relationFromFields,
          targetModel: f.type,
          toFields: f.relationToFields ?? [],
          isRequired: f.isRequired,
          onDelete: f.relationOnDelete,
        });
      }
      continue;
    }
    if (f.kind === 'unsupported') continue;
    columns.push({
      field: f.name,
      column: f.dbName ?? f.name,
      kind: columnKind(f, enums),
      isList: f.isList,
      isRequired: f.isRequired,
      isId: f.isId,
      hasDefault: f.hasDefaultValue,
      ...defaultOf(f.default),
      isUpdatedAt: f.isUpdatedAt,
    });
  }
  const idField = m.primaryKey?.fields[0] ?? columns.find((c) => c.isId)?.field ?? 'id';
  const uniques = [...m.uniqueFields, ...m.fields.filter((f) => f.isUnique).map((f) => [f.name])];
  return {
    name: m.name,
    table: m.dbName ?? m.name,
    dbSchema: m.schema ?? 'public',
    columns,
    columnsByField: new Map(columns.map((c) => [c.field, c])),
    idField,
    ...(m.primaryKey && m.primaryKey.fields.length > 1 ? { compositeId: m.primaryKey.fields } : {}),
    relations,
    uniques,
  };
}

function defaultOf(value: unknown): Pick<SchemaColumn, 'defaultLiteral' | 'defaultFunction'> {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return { defaultLiteral: value };
  if (value && typeof value === 'object' && 'name' in value && typeof value.name === 'string') return { defaultFunction: value.name };
  return {};
}

function columnKind(f: DmmfField, enums: ReadonlyMap<string, readonly string[]>): ColumnKind {
  if (f.kind === 'enum') return { type: 'enum', enumName: f.type, values: enums.get(f.type) ?? [] };
  const native = f.nativeType?.[0];
  const args = f.nativeType?.[1] ?? [];
  switch (f.type) {
    case 'String': {
      if (native === 'Uuid') return { type: 'uuid' };
      if ((native === 'VarChar' || native === 'Char') && args[0]) return { type: 'text', maxLength: Number(args[0]) };
      return { type: 'text' };
    }
    case 'Int':
      return { type: 'int' };
    case 'BigInt':
      return { type: 'bigint' };
    case 'Float':
      return { type: 'float' };
    case 'Decimal': {
      // Prisma's default for Decimal on PostgreSQL is DECIMAL(65,30).
      const precision = args[0] ? Number(args[0]) : 65;
      const scale = args[1] ? Number(args[1]) : args[0] ? 0 : 30;
      return { type: 'decimal', precision, scale };
    }
    case 'Boolean':
      return { type: 'boolean' };
    case 'DateTime':
      return { type: 'timestamp' };
    case 'Json':
      return { type: 'json' };
    case 'Bytes':
      return { type: 'bytes' };
    default:
      return { type: 'text' };
  }
}

/** The foreign-key relation a scalar field belongs to, if any. */
export function relationOf(model: SchemaModel, field: string): SchemaRelation | undefined {
  return model.relations.find((r) => r.fromFields.includes(field));
}

/** Quotes an SQL identifier (never interpolate a name unquoted). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `"schema"."table"` for a model. */
export function qualifiedTable(model: SchemaModel): string {
  return `${quoteIdent(model.dbSchema)}.${quoteIdent(model.table)}`;
}
