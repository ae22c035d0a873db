/**
 * The resolved mapping: which Prisma column each source value goes to, checked against the
 * schema. Built once by src/config/resolve-mapping.ts; read by plan, migrate and verify, so
 * all three apply exactly the same rules.
 */
import type { InvalidValuePolicy, MissingReferencePolicy, SourceDocument } from '../config/define-config.js';
import type { SchemaColumn, SchemaModel } from '../schema/prisma-schema.js';

export type ValueTransform = (value: unknown, doc: SourceDocument) => unknown;

export interface ValueOptions {
  onInvalid: InvalidValuePolicy;
  assumeTimeZone: 'UTC' | undefined;
  nul: 'reject' | 'replace';
  /** DateTime columns: the unit of epoch numbers. Unset (not 'milliseconds') unless configured, so older mappings keep their fingerprint. */
  epoch?: 'seconds' | 'milliseconds';
}

export type ColumnSource =
  /** The document's `_id`, as its deterministic UUID. */
  | { kind: 'id' }
  /** A source value converted to the column's type. */
  | { kind: 'value'; path: readonly string[]; transform: ValueTransform | undefined }
  /** A reference to another collection's document, written as that document's UUID. */
  | {
      kind: 'reference';
      path: readonly string[];
      transform: ValueTransform | undefined;
      targetCollection: string;
      targetModel: SchemaModel;
      onMissing: MissingReferencePolicy;
      /** Written in a second pass, after the target collection (breaks a foreign-key cycle). */
      deferred: boolean;
      /**
       * A Prisma relation to a unique field of the target that is not its id
       * (`@relation(fields: [accountNumber], references: [accountId])`): the value is converted
       * and written as is, and the referenced row is the one whose `toField` holds it.
       */
      toField?: string;
      /**
       * `by` in the configuration: the value is a business key, the referenced document is the
       * one of the target collection whose source field at this path holds it; its UUID is written.
       */
      by?: readonly string[];
      /** With `by`: duplicates of the key in the referenced collection accepted (left unresolved) instead of a configuration error. */
      duplicateKeys?: 'unresolved';
    }
  /** The JSON column that keeps every source field nothing else maps. */
  | { kind: 'extra' }
  /** Child rows only: the parent's UUID. */
  | { kind: 'parent' }
  /** Child rows only: the element's position in the source array. */
  | { kind: 'position' }
  /** Not written by the migration: the database default (or NULL) applies. */
  | { kind: 'none' };

export interface MappedColumn {
  column: SchemaColumn;
  source: ColumnSource;
  options: ValueOptions;
  /** Dotted source path, for messages ("orders.items[3].unitPrice"). */
  label: string;
}

export interface MappedChild {
  model: SchemaModel;
  /** Source array path, or a function that yields the array. */
  from: readonly string[] | ((doc: SourceDocument) => readonly unknown[] | null | undefined);
  /** Label of the array for messages (`items`). */
  label: string;
  columns: MappedColumn[];
  /** Paths inside an array element that columns consume; the rest of the element goes to the extra column. */
  consumedPaths: readonly (readonly string[])[];
  /** The JSON column receiving unmapped element fields, if any. */
  extraColumn: SchemaColumn | undefined;
  /** The child's id column (a UUID derived from the parent's UUID and the position). */
  idColumn: SchemaColumn;
  /**
   * Arrays of plain values (`[371138, …]`, `['a', 'b']`): the field that receives each element,
   * when the child model has exactly one column besides its id, parent, position and extra
   * columns (or `valueField` names it). Undefined: elements must be objects.
   */
  valueColumn?: string;
}

export interface MappedCollection {
  /** MongoDB collection name. */
  name: string;
  model: SchemaModel;
  /** Reshapes a source document before mapping (configuration's `prepare`). */
  prepare: ((doc: SourceDocument) => SourceDocument) | undefined;
  columns: MappedColumn[];
  children: MappedChild[];
  /** The JSON column receiving unmapped source fields, if any. */
  extraColumn: SchemaColumn | undefined;
  /** Source paths that columns and children consume; everything else goes to the extra column. */
  consumedPaths: readonly (readonly string[])[];
  /** Source fields dropped on purpose (`ignore`), as given: top-level names and dotted paths. */
  ignored: ReadonlySet<string>;
  updatedAtField: string;
  batchSize: number;
  /** A row the application changed since it was migrated: left alone and reported ('skip'), or replaced ('overwrite'). */
  onConflict: 'skip' | 'overwrite';
  /** Documents deleted in MongoDB (migrate --incremental --detect-deletes): their rows deleted, or marked in a DateTime field. */
  onSourceDelete: { mode: 'delete' } | { mode: 'mark'; field: string };
}

export interface DeferredReference {
  collection: string;
  field: string;
  targetCollection: string;
}

export interface MigrationMapping {
  collections: ReadonlyMap<string, MappedCollection>;
  /** Collections in foreign-key order: referenced collections first. */
  loadOrder: readonly string[];
  /** References written in a second pass to break foreign-key cycles. */
  deferred: readonly DeferredReference[];
  batchSize: number;
  concurrency: number;
  maxRejects: number | undefined;
}

/** Every column a collection writes: its model's, then its child models'. */
export function collectionColumns(c: Pick<MappedCollection, 'columns' | 'children'>): MappedColumn[] {
  return [...c.columns, ...c.children.flatMap((ch) => ch.columns)];
}
