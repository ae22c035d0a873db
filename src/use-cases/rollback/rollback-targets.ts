/**
 * What a rollback needs to know about a collection's tables: the main table and its id,
 * the child tables with the columns that identify a migration-written child row (parent
 * id and position), and every foreign key pointing at any of them.
 */
import type pg from 'pg';
import type { MappedCollection } from '../../core/mapping.js';
import { qualifiedTable, quoteIdent } from '../../schema/prisma-schema.js';
import { referencingKeys, type ReferencingKey } from './rollback-foreign-keys.js';

/** A child table of a collection (order_items of orders). */
export interface ChildTarget {
  /** Prisma model name: the `relation` input of childUuid. */
  modelName: string;
  table: string;
  label: string;
  idColumn: string;
  parentColumn: string;
  positionColumn: string;
  /** Foreign keys pointing at the child table itself (rows that would block the parent). */
  referencing: ReferencingKey[];
}

/** A collection's main table and everything that points at it. */
export interface RollbackTarget {
  collection: string;
  modelName: string;
  table: string;
  label: string;
  idColumn: string;
  children: ChildTarget[];
  /** Foreign keys pointing at the main table, the children's parent keys excluded. */
  referencing: ReferencingKey[];
  /** The children's parent keys (child i ↔ parentKeys[i], undefined when pg_catalog has none). */
  parentKeys: (ReferencingKey | undefined)[];
}

/** The child tables of every configured collection (qualified table → quoted parent column), for the reasons a rollback gives. */
export function childTablesOf(collections: Iterable<MappedCollection>): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of collections) {
    for (const child of c.children) {
      const parent = child.columns.find((col) => col.source.kind === 'parent');
      if (parent) out.set(qualifiedTable(child.model), quoteIdent(parent.column.column));
    }
  }
  return out;
}

export async function rollbackTarget(client: pg.ClientBase, collection: MappedCollection, childTables: ReadonlyMap<string, string> = new Map()): Promise<RollbackTarget> {
  const model = collection.model;
  const table = qualifiedTable(model);
  const all = (await referencingKeys(client, table)).map((k) => {
    const parentColumn = childTables.get(k.table);
    return parentColumn ? { ...k, childOf: { parentColumn } } : k;
  });
  const children: ChildTarget[] = [];
  const parentKeys: (ReferencingKey | undefined)[] = [];
  for (const child of collection.children) {
    const parent = child.columns.find((c) => c.source.kind === 'parent');
    const position = child.columns.find((c) => c.source.kind === 'position');
    if (!parent || !position) continue; // resolve-mapping always provides both
    const childTable = qualifiedTable(child.model);
    const target: ChildTarget = {
      modelName: child.model.name,
      table: childTable,
      label: `${child.model.dbSchema}.${child.model.table}`,
      idColumn: quoteIdent(child.idColumn.column),
      parentColumn: quoteIdent(parent.column.column),
      positionColumn: quoteIdent(position.column.column),
      referencing: await referencingKeys(client, childTable),
    };
    children.push(target);
    parentKeys.push(all.find((k) => k.table === childTable && k.fromColumns.length === 1 && k.fromColumns[0] === target.parentColumn));
  }
  return {
    collection: collection.name,
    modelName: model.name,
    table,
    label: `${model.dbSchema}.${model.table}`,
    idColumn: quoteIdent(model.columnsByField.get(model.idField)?.column ?? 'id'),
    children,
    referencing: all.filter((k) => !parentKeys.includes(k)),
    parentKeys,
  };
}
