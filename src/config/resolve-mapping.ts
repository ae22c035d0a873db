/**
 * Turns configuration + Prisma schema into the mapping every command uses, and checks it
 * before any row is written: unknown models and fields, required columns without a source,
 * references to unmapped collections, foreign-key cycles (broken by deferring a nullable
 * reference to a second pass), table or column names PostgreSQL would truncate into one
 * another. Pure: all problems are returned together.
 */
import type { CollectionConfig, FieldMapping, FieldSetting, HybridMigrateConfig, ChildMapping } from './define-config.js';
import type { ConfigIssue } from '../core/errors.js';
import type {
  ColumnSource,
  DeferredReference,
  MappedChild,
  MappedCollection,
  MappedColumn,
  MigrationMapping,
  ValueOptions,
} from '../core/mapping.js';
import { collectionColumns } from '../core/mapping.js';
import { identifierCollisions } from './identifiers.js';
import { relationOf, type PrismaSchema, type SchemaColumn, type SchemaModel } from '../schema/prisma-schema.js';

export const DEFAULTS = { batchSize: 5000, concurrency: 4, extraField: 'legacyExtra', updatedAtField: 'updatedAt' } as const;

export interface ResolveResult {
  mapping: MigrationMapping;
  issues: ConfigIssue[];
}

/** The model a collection maps to when configuration does not say: same table name, or singular PascalCase. */
export function defaultModelFor(collection: string, schema: PrismaSchema): SchemaModel | undefined {
  for (const m of schema.models.values()) if (m.table === collection) return m;
  const pascal = collection.replace(/(^|[_-])(\w)/g, (_, __, c: string) => c.toUpperCase());
  const candidates = [pascal, pascal.replace(/ies$/, 'y'), pascal.replace(/s$/, '')];
  for (const name of candidates) {
    const m = schema.models.get(name);
    if (m) return m;
  }
  return undefined;
}

/**
 * Resolves the mapping of `collections` (default: every collection in the configuration).
 * Collections not in the configuration use the defaults by name.
 */
export function resolveMapping(config: HybridMigrateConfig, schema: PrismaSchema, collections?: readonly string[]): ResolveResult {
  const issues: ConfigIssue[] = [];
  const configured = config.collections ?? {};
  const names = collections && collections.length > 0 ? [...collections] : Object.keys(configured);
  const batchSize = config.batchSize ?? DEFAULTS.batchSize;

  // Which collection holds the documents of each model (for references), over the whole configuration.
  const collectionOfModel = new Map<string, string>();
  const modelOf = new Map<string, SchemaModel>();
  for (const name of new Set([...Object.keys(configured), ...names])) {
    const cfg = Object.hasOwn(configured, name) ? configured[name] : undefined;
    const model = cfg?.model ? schema.models.get(cfg.model) : defaultModelFor(name, schema);
    if (!model) {
      if (names.includes(name)) {
        issues.push({
          path: `collections.${name}.model`,
          message: cfg?.model
            ? `model "${cfg.model}" is not in the Prisma schema (${schema.path}); models: ${[...schema.models.keys()].join(', ')}`
            : `no Prisma model matches collection "${name}"; set collections.${name}.model`,
        });
      }
      continue;
    }
    modelOf.set(name, model);
    const previous = collectionOfModel.get(model.name);
    if (previous && previous !== name) {
      issues.push({ path: `collections.${name}.model`, message: `model "${model.name}" is already the target of collection "${previous}"` });
    } else collectionOfModel.set(model.name, name);
  }

  const mapped = new Map<string, MappedCollection>();
  for (const name of names) {
    const model = modelOf.get(name);
    if (!model) continue;
    const cfg: CollectionConfig = (Object.hasOwn(configured, name) ? configured[name] : undefined) ?? {};
    mapped.set(name, resolveCollection(name, model, cfg, schema, collectionOfModel, batchSize, issues));
  }

  const { order, deferred, cycle } = loadOrder(mapped);
  if (cycle.length > 0) {
    issues.push({
      path: 'collections',
      message: `collections ${cycle.join(', ')} reference each other through required foreign keys only; make one of those fields optional in the Prisma schema so it can be written in a second pass`,
    });
  }
  for (const d of deferred) {
    const col = mapped.get(d.collection)?.columns.find((c) => c.column.field === d.field);
    if (col?.source.kind === 'reference') col.source.deferred = true;
  }
  const mapping: MigrationMapping = {
    collections: mapped,
    loadOrder: order,
    deferred,
    batchSize,
    concurrency: config.concurrency ?? DEFAULTS.concurrency,
    maxRejects: config.maxRejects,
  };
  issues.push(...identifierCollisions(mapping));
  return { mapping, issues };
}

function resolveCollection(
  name: string,
  model: SchemaModel,
  cfg: CollectionConfig,
  schema: PrismaSchema,
  collectionOfModel: ReadonlyMap<string, string>,
  batchSize: number,
  issues: ConfigIssue[],
): MappedCollection {
  const base = `collections.${name}`;
  compositeIdIssue(model, `${base}.model`, 'the UUID of its document\'s _id', issues);
  const consumed: string[][] = [['_id']];
  const extraName = cfg.extraField === false ? undefined : (cfg.extraField ?? DEFAULTS.extraField);
  const extraColumn = extraName ? model.columnsByField.get(extraName) : undefined;
  if (cfg.extraField && !extraColumn) issues.push({ path: `${base}.extraField`, message: `model "${model.name}" has no field "${cfg.extraField}"` });
  else if (extraColumn && extraColumn.kind.type !== 'json') {
    issues.push({ path: `${base}.extraField`, message: `field "${extraColumn.field}" of "${model.name}" must be Json to keep unmapped source fields` });
  }

  const ignored = new Set(['__v', ...(cfg.ignore ?? [])]);
  const ignoredPaths = (cfg.ignore ?? []).map((p) => p.split('.'));
  const columns = resolveColumns(model, cfg.fields ?? {}, `${base}.fields`, '', {
    schema,
    collectionOfModel,
    issues,
    consumed,
    extra: extraColumn?.kind.type === 'json' ? extraColumn : undefined,
    idSource: 'document',
    ignored: { paths: ignoredPaths, setting: `${base}.ignore` },
  });
  // A dotted entry (`meta.debug`) drops that nested field: taken out of the extra JSON like a mapped path.
  for (const p of cfg.ignore ?? []) if (p.includes('.')) consumed.push(p.split('.'));

  const children: MappedChild[] = [];
  (cfg.children ?? []).forEach((child, i) => {
    const dropped = typeof child.from === 'string' ? droppedBy(ignoredPaths, child.from.split('.')) : undefined;
    if (dropped !== undefined) {
      issues.push({ path: `${base}.children[${i}].from`, message: `reads "${child.from as string}", which ${base}.ignore drops ("${dropped}"); remove "${dropped}" from ignore, or this child mapping` });
    }
    const resolved = resolveChild(model, child, `${base}.children[${i}]`, schema, collectionOfModel, issues, consumed);
    if (resolved) children.push(resolved);
  });

  return {
    name,
    model,
    prepare: cfg.prepare,
    columns,
    children,
    extraColumn: extraColumn?.kind.type === 'json' ? extraColumn : undefined,
    consumedPaths: consumed,
    ignored,
    updatedAtField: cfg.updatedAtField ?? DEFAULTS.updatedAtField,
    batchSize: cfg.batchSize ?? batchSize,
    onConflict: cfg.onConflict ?? 'skip',
    onSourceDelete: resolveSourceDelete(cfg, model, base, issues),
  };
}

function resolveSourceDelete(cfg: CollectionConfig, model: SchemaModel, base: string, issues: ConfigIssue[]): MappedCollection['onSourceDelete'] {
  const setting = cfg.onSourceDelete ?? 'delete';
  if (setting === 'delete') return { mode: 'delete' };
  const column = model.columnsByField.get(setting.mark);
  if (!column || column.kind.type !== 'timestamp' || column.isRequired) {
    issues.push({ path: `${base}.onSourceDelete.mark`, message: `"${model.name}.${setting.mark}" must be an optional DateTime field to mark deleted documents` });
  }
  return { mode: 'mark', field: setting.mark };
}

interface ColumnContext {
  schema: PrismaSchema;
  collectionOfModel: ReadonlyMap<string, string>;
  issues: ConfigIssue[];
  consumed: string[][];
  extra: SchemaColumn | undefined;
  /** 'document': the id comes from `_id`; 'child': id, parent and position are derived. */
  idSource: 'document' | 'child';
  parentField?: string;
  positionField?: string;
  /** The collection's `ignore` entries as paths, and where they are set (document columns only). */
  ignored?: { paths: readonly (readonly string[])[]; setting: string };
}

function resolveColumns(
  model: SchemaModel,
  fields: Record<string, FieldSetting>,
  base: string,
  labelPrefix: string,
  ctx: ColumnContext,
): MappedColumn[] {
  for (const key of Object.keys(fields)) {
    if (!model.columnsByField.has(key)) {
      ctx.issues.push({ path: `${base}.${key}`, message: `model "${model.name}" has no scalar field "${key}"; fields: ${model.columns.map((c) => c.field).join(', ')}` });
    }
  }
  const out: MappedColumn[] = [];
  for (const column of model.columns) {
    const setting: FieldSetting | undefined = Object.hasOwn(fields, column.field) ? fields[column.field] : undefined;
    const mapping: FieldMapping = typeof setting === 'string' ? { from: setting } : setting === false || setting === undefined ? {} : setting;
    const options: ValueOptions = {
      onInvalid: mapping.onInvalid ?? 'reject',
      assumeTimeZone: mapping.assumeTimeZone,
      nul: mapping.nul ?? 'reject',
      ...(mapping.epoch !== undefined ? { epoch: mapping.epoch } : {}),
    };
    if (mapping.epoch !== undefined && column.kind.type !== 'timestamp') {
      ctx.issues.push({ path: `${base}.${column.field}.epoch`, message: `applies to DateTime fields; "${model.name}.${column.field}" is not one` });
    }
    if (mapping.onInvalid === 'extra' && (column.isRequired || !ctx.extra)) {
      ctx.issues.push({
        path: `${base}.${column.field}.onInvalid`,
        message: column.isRequired
          ? `'extra' writes NULL, but "${model.name}.${column.field}" is required; use 'reject'`
          : `'extra' keeps the value in the extra JSON field, and "${model.name}" has none`,
      });
    }
    const path = (mapping.from ?? column.field).split('.');
    const dropped = ctx.ignored ? droppedBy(ctx.ignored.paths, path) : undefined;
    const label = labelPrefix + path.join('.');
    let source: ColumnSource;
    if (column.field === model.idField && setting === undefined) {
      // A document's id comes from its `_id`; a child's from its parent's id and position.
      source = { kind: 'id' };
    } else if (ctx.idSource === 'child' && column.field === ctx.parentField) {
      source = { kind: 'parent' };
    } else if (ctx.idSource === 'child' && column.field === ctx.positionField && setting === undefined) {
      source = { kind: 'position' };
    } else if (ctx.extra && column.field === ctx.extra.field && setting === undefined) {
      source = { kind: 'extra' };
    } else if (setting === false) {
      source = { kind: 'none' };
      if (column.isRequired && !column.hasDefault) {
        ctx.issues.push({ path: `${base}.${column.field}`, message: `required field "${model.name}.${column.field}" has no default, so it needs a source` });
      }
    } else if (dropped !== undefined) {
      // `ignore` drops the source field: a column that would read it is left unwritten, as with `false`.
      source = { kind: 'none' };
      if (setting !== undefined) {
        ctx.issues.push({
          path: `${base}.${column.field}`,
          message: `reads "${path.join('.')}", which ${ctx.ignored?.setting} drops ("${dropped}"); remove "${dropped}" from ignore to migrate it, or this field setting to leave the field unwritten`,
        });
      } else if (column.isRequired && !column.hasDefault) {
        ctx.issues.push({
          path: `${base}.${column.field}`,
          message: `required field "${model.name}.${column.field}" has no default, and its source field "${path.join('.')}" is dropped by ${ctx.ignored?.setting} ("${dropped}"); remove "${dropped}" from ignore, or map the field from another source`,
        });
      }
    } else {
      const relation = relationOf(model, column.field);
      if (relation || mapping.references) {
        const targetModel = relation ? ctx.schema.models.get(relation.targetModel) : undefined;
        // Without configuration, a model's documents live in the collection named like its table.
        const targetCollection = mapping.references ?? (targetModel ? (ctx.collectionOfModel.get(targetModel.name) ?? targetModel.table) : undefined);
        if (!targetModel || !targetCollection) {
          ctx.issues.push({
            path: `${base}.${column.field}`,
            message: `"${model.name}.${column.field}" is not a foreign key in the Prisma schema, so "references" cannot apply to it`,
          });
          source = { kind: 'none' };
        } else {
          const toField = relation ? relationTarget(model, column, relation, targetModel, mapping, `${base}.${column.field}`, ctx.issues) : undefined;
          source = {
            kind: 'reference',
            path,
            transform: mapping.transform,
            targetCollection,
            targetModel,
            onMissing: mapping.onMissingReference ?? (column.isRequired ? 'reject' : 'keep'),
            deferred: false,
            ...(toField !== undefined ? { toField } : {}),
            ...(mapping.by !== undefined ? { by: mapping.by.split('.') } : {}),
            ...(mapping.duplicateKeys !== undefined ? { duplicateKeys: mapping.duplicateKeys } : {}),
          };
          ctx.consumed.push(path);
        }
      } else {
        source = { kind: 'value', path, transform: mapping.transform };
        ctx.consumed.push(path);
      }
    }
    out.push({ column, source, options, label });
  }
  return out;
}

/** The `ignore` entry that drops a source path (the path itself or a parent of it). */
function droppedBy(ignored: readonly (readonly string[])[], path: readonly string[]): string | undefined {
  const hit = ignored.find((p) => p.length <= path.length && p.every((k, i) => path[i] === k));
  return hit?.join('.');
}

/**
 * The target field a Prisma relation references, when it is not the target's id: the value
 * is then written as is and checked against that (unique) field. Never assumed to be an
 * `_id` reference; what cannot work is a configuration error naming the relation.
 */
function relationTarget(
  model: SchemaModel,
  column: SchemaColumn,
  relation: NonNullable<ReturnType<typeof relationOf>>,
  targetModel: SchemaModel,
  mapping: FieldMapping,
  path: string,
  issues: ConfigIssue[],
): string | undefined {
  const name = `${model.name}.${relation.field} (@relation(fields: [${relation.fromFields.join(', ')}], references: [${relation.toFields.join(', ')}]))`;
  if (relation.fromFields.length !== 1 || relation.toFields.length !== 1) {
    issues.push({ path, message: `relation ${name} has a composite key, which the migration cannot write; map "${column.field}" with a transform and no relation, or give ${targetModel.name} a single-field key` });
    return undefined;
  }
  const to = relation.toFields[0] as string;
  if (to === targetModel.idField) return undefined;
  if (mapping.by !== undefined) {
    issues.push({
      path: `${path}.by`,
      message: `relation ${name} references ${targetModel.name}.${to}, not its id: the value is written as is and checked against "${to}", so "by" (which writes the referenced row's UUID) cannot apply; remove "by"`,
    });
    return undefined;
  }
  const target = targetModel.columnsByField.get(to);
  if (!target || target.isList || target.kind.type !== column.kind.type) {
    issues.push({
      path,
      message: `relation ${name} references ${targetModel.name}.${to}, which is not a single ${column.kind.type} field; make the relation reference ${targetModel.name}.${targetModel.idField} or a unique field of the same type`,
    });
    return undefined;
  }
  return to;
}

function resolveChild(
  parent: SchemaModel,
  child: ChildMapping,
  base: string,
  schema: PrismaSchema,
  collectionOfModel: ReadonlyMap<string, string>,
  issues: ConfigIssue[],
  consumed: string[][],
): MappedChild | undefined {
  const model = schema.models.get(child.model);
  if (!model) {
    issues.push({ path: `${base}.model`, message: `model "${child.model}" is not in the Prisma schema` });
    return undefined;
  }
  const parentRelation = child.parentField
    ? relationOf(model, child.parentField)
    : model.relations.find((r) => r.targetModel === parent.name);
  const parentField = parentRelation?.fromFields[0];
  if (!parentField) {
    issues.push({ path: `${base}.parentField`, message: `model "${model.name}" has no foreign key to "${parent.name}"` });
    return undefined;
  }
  const positionField = child.positionField ?? 'position';
  if (!model.columnsByField.has(positionField)) {
    issues.push({ path: `${base}.positionField`, message: `model "${model.name}" has no field "${positionField}" to hold the array position` });
  }
  const label = typeof child.from === 'string' ? child.from : model.name;
  if (typeof child.from === 'string') consumed.push(child.from.split('.'));
  for (const c of child.consumes ?? []) consumed.push(c.split('.'));
  if (compositeIdIssue(model, `${base}.model`, 'a UUID made from its parent\'s id and its position', issues)) return undefined;
  const idColumn = model.columnsByField.get(model.idField);
  if (!idColumn) {
    issues.push({ path: `${base}.model`, message: `model "${model.name}" has no id field` });
    return undefined;
  }
  const childConsumed: string[][] = [];
  const extraCandidate = model.columnsByField.get(DEFAULTS.extraField);
  const extraColumn = extraCandidate?.kind.type === 'json' ? extraCandidate : undefined;
  const columns = resolveColumns(model, child.fields ?? {}, `${base}.fields`, `${label}[].`, {
    schema,
    collectionOfModel,
    issues,
    consumed: childConsumed,
    extra: extraColumn,
    idSource: 'child',
    parentField,
    positionField,
  });
  const valueColumn = childValueColumn(model, child, columns, base, issues);
  return {
    model,
    from: typeof child.from === 'string' ? child.from.split('.') : child.from,
    label,
    columns,
    consumedPaths: childConsumed,
    extraColumn,
    idColumn,
    ...(valueColumn !== undefined ? { valueColumn } : {}),
  };
}

/**
 * The field that receives the elements of an array of plain values: `valueField`, or the
 * child model's only field written from the source (its id, parent, position and extra JSON
 * fields aside). Undefined when there is no single such field: elements must then be objects.
 */
function childValueColumn(model: SchemaModel, child: ChildMapping, columns: readonly MappedColumn[], base: string, issues: ConfigIssue[]): string | undefined {
  const candidates = columns.filter((c) => c.source.kind === 'value' || c.source.kind === 'reference');
  if (child.valueField !== undefined) {
    if (!candidates.some((c) => c.column.field === child.valueField)) {
      issues.push({
        path: `${base}.valueField`,
        message: `model "${model.name}" has no field "${child.valueField}" that takes a source value; fields: ${candidates.map((c) => c.column.field).join(', ') || '(none)'}`,
      });
      return undefined;
    }
    return child.valueField;
  }
  return candidates.length === 1 ? candidates[0]?.column.field : undefined;
}

/** Kahn's algorithm over references; a cycle is broken by deferring an optional reference. */
function loadOrder(collections: ReadonlyMap<string, MappedCollection>): { order: string[]; deferred: DeferredReference[]; cycle: string[] } {
  const edges: DeferredReference[] = [];
  const optional = new Set<DeferredReference>();
  for (const c of collections.values()) {
    for (const col of collectionColumns(c)) {
      if (col.source.kind !== 'reference' || !collections.has(col.source.targetCollection)) continue;
      const edge = { collection: c.name, field: col.column.field, targetCollection: col.source.targetCollection };
      edges.push(edge);
      // Only a top-level nullable foreign key can be written later; child references are loaded with their rows.
      // A reference by the target's own column (toField) holds a value, not a UUID the second pass could write.
      if (!col.column.isRequired && c.columns.includes(col) && col.source.toField === undefined && col.source.by === undefined) optional.add(edge);
    }
  }
  const deferred: DeferredReference[] = [];
  const order: string[] = [];
  const remaining = new Set([...collections.keys()].sort());
  const active = (e: DeferredReference) => !deferred.includes(e) && e.collection !== e.targetCollection;
  for (const e of edges) if (e.collection === e.targetCollection && optional.has(e)) deferred.push(e);
  while (remaining.size > 0) {
    const ready = [...remaining].filter((n) => !edges.some((e) => active(e) && e.collection === n && remaining.has(e.targetCollection)));
    if (ready.length > 0) {
      for (const n of ready) {
        order.push(n);
        remaining.delete(n);
      }
      continue;
    }
    const breakable = edges.find((e) => active(e) && optional.has(e) && remaining.has(e.collection) && remaining.has(e.targetCollection));
    if (!breakable) {
      // A cycle of required references cannot be loaded row by row; the caller reports it.
      const cycle = [...remaining];
      return { order: [...order, ...cycle], deferred, cycle };
    }
    deferred.push(breakable);
  }
  return { order, deferred, cycle: [] };
}

/**
 * A model whose primary key is several fields (`@@id([orderId, position])`): every row the
 * migration writes has one UUID id (what ownership, resume and rollback go by). Said with the
 * fix, rather than found by the preflight as a primary key that differs from the schema.
 */
function compositeIdIssue(model: SchemaModel, path: string, idOf: string, issues: ConfigIssue[]): boolean {
  if (!model.compositeId) return false;
  const fields = model.compositeId.join(', ');
  issues.push({
    path,
    message: `model "${model.name}" has a composite primary key @@id([${fields}]); hybrid-migrate gives every row one UUID id (${idOf}): add \`id String @id @db.Uuid\` to the model and make the pair @@unique([${fields}])`,
  });
  return true;
}
