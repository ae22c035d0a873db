/**
 * The configuration an operator writes in `hybrid-migrate.config.ts`. Everything is
 * optional: a collection whose fields match its Prisma model by name needs no entry.
 */

/** What to do with a reference to a document that does not exist (a dangling reference). */
export type MissingReferencePolicy =
  /** Write NULL in the foreign key; the orphan is counted in the report. */
  | 'null'
  /** Set the document aside in the rejects table, with the field path. */
  | 'reject'
  /** Write NULL in the foreign key and keep the original id in the extra JSON column, under `$orphans`. */
  | 'keep';

/** What to do with a value that cannot be converted to its column's type. */
export type InvalidValuePolicy =
  /** Set the document aside in the rejects table, with the field path and reason (default). */
  | 'reject'
  /** Write NULL (optional columns only) and keep the original value in the extra JSON column, under `$invalid`. */
  | 'extra';

/** A read-only view of a source document as the MongoDB driver decoded it. */
export type SourceDocument = Readonly<Record<string, unknown>>;

/** How one Prisma field gets its value. */
export interface FieldMapping {
  /** Dotted path in the MongoDB document (`address.city`). Default: the Prisma field name. */
  from?: string;
  /**
   * Turns the source value into the value to convert (runs before type conversion).
   * Receives the value at `from` and the whole document. Return undefined for "absent".
   */
  transform?: (value: unknown, doc: SourceDocument) => unknown;
  /**
   * For a foreign-key field: the collection whose `_id`s it holds. Default: the collection
   * mapped to the relation's model.
   */
  references?: string;
  /**
   * With `references`: the field of the referenced collection's documents that the value
   * matches, instead of `_id` (`{ from: 'email', references: 'users', by: 'email' }`). The
   * foreign key gets the UUID of the document holding that value, looked up in MongoDB per
   * batch. The field must be unique in the referenced collection (`plan` reports values that are not).
   */
  by?: string;
  /**
   * With `by`: what to do when the field is not unique in the whole referenced collection.
   * Unset: `plan` reports it as a configuration error (exit 3), with samples. `'unresolved'`:
   * accepted; a reference to a value several documents hold resolves to none of them and is
   * handled as a dangling reference (onMissingReference).
   */
  duplicateKeys?: 'unresolved';
  /** Dangling references: default 'reject' for a required foreign key, 'keep' for an optional one. */
  onMissingReference?: MissingReferencePolicy;
  /** Values that cannot be converted: default 'reject'. */
  onInvalid?: InvalidValuePolicy;
  /** Dates written without a time zone are taken as UTC instead of being rejected. */
  assumeTimeZone?: 'UTC';
  /**
   * DateTime fields: what epoch numbers (and numeric strings) count. Default milliseconds;
   * `'seconds'` converts 1612345678 to 2021-02-03T09:47:58Z (as milliseconds it would be
   * 1970-01-19). `plan` reports values that look like seconds in a field without this setting.
   */
  epoch?: 'seconds' | 'milliseconds';
  /** NUL characters in text, which PostgreSQL cannot store: reject (default) or replace by U+FFFD. */
  nul?: 'reject' | 'replace';
}

/** `'path.in.doc'` is short for `{ from: 'path.in.doc' }`; `false` means "no source: database default or NULL". */
export type FieldSetting = string | FieldMapping | false;

/** A nested array that becomes rows of a child table (order items, status history). */
export interface ChildMapping {
  /** The child Prisma model. */
  model: string;
  /** Source array path, or a function that returns the array (e.g. old single-product orders as one item). */
  from: string | ((doc: SourceDocument) => readonly unknown[] | null | undefined);
  /** Top-level source fields the child rows are built from, so they are not also copied to the extra column. */
  consumes?: string[];
  /** Child fields, as for a collection; paths are relative to the array element. */
  fields?: Record<string, FieldSetting>;
  /** Field holding the element's position in the array. Default: `position`. */
  positionField?: string;
  /** Field holding the parent's id. Default: the child's foreign key to the parent model. */
  parentField?: string;
  /**
   * Arrays of plain values (`accounts: [371138, …]`): the field each element is written to.
   * Default: the child model's only field besides its id, parent, position and extra JSON fields.
   */
  valueField?: string;
}

export interface CollectionConfig {
  /** The Prisma model the collection becomes. Default: the model whose table or name matches the collection. */
  model?: string;
  /**
   * Reshapes each source document before it is mapped (e.g. an `address` that is a string in
   * old documents and an object in new ones; old single-product orders as one `items` entry).
   * Must be deterministic: verify applies it again to compare. Return a new object; the
   * document must not be mutated.
   */
  prepare?: (doc: SourceDocument) => SourceDocument;
  /** Per-field settings; fields not listed are taken from the source field of the same name. */
  fields?: Record<string, FieldSetting>;
  children?: ChildMapping[];
  /**
   * JSON field that keeps every source field nothing else maps (schema drift), so nothing is lost.
   * Default: `legacyExtra` when the model has such a Json field. `false`: none (unmapped fields are
   * reported by `plan`, and `plan --strict` fails).
   */
  extraField?: string | false;
  /**
   * Source fields that are dropped on purpose (e.g. `__v`), top-level or dotted (`meta.debug`).
   * `__v` is always ignored. A model field that would take an ignored field by its name is left
   * unwritten (database default or NULL); one configured to read it is a configuration error.
   */
  ignore?: string[];
  /** Source field that tells when a document last changed (incremental sync). Default: `updatedAt`. */
  updatedAtField?: string;
  /**
   * A migrated row the application changed since (detected by its hash): `'skip'` leaves it
   * and reports it (default); `'overwrite'` replaces it with the source document.
   */
  onConflict?: 'skip' | 'overwrite';
  /**
   * Documents deleted in MongoDB, found by `migrate --incremental --detect-deletes`: `'delete'`
   * removes the rows the migration wrote (default); `{ mark: 'deletedAt' }` sets that DateTime field instead.
   */
  onSourceDelete?: 'delete' | { mark: string };
  /** Documents per batch for this collection. */
  batchSize?: number;
}

export interface HybridMigrateConfig {
  /** Path of schema.prisma, relative to the config file. Default: `prisma/schema.prisma`. */
  schema?: string;
  /** Collections to migrate, keyed by MongoDB collection name. */
  collections?: Record<string, CollectionConfig>;
  /** Documents per batch (one PostgreSQL transaction each). Default 5000. */
  batchSize?: number;
  /** Collections and `_id` ranges processed in parallel. Default 4. */
  concurrency?: number;
  /** Stop the run (exit 1) when more documents than this have been rejected. Default: no limit. */
  maxRejects?: number;
  /**
   * How long a PostgreSQL statement of migrate and rollback waits for a lock another session
   * holds before the run stops (exit 7, naming the blocker): a duration ('30s', '2m', '500ms')
   * or milliseconds; 0 waits without limit. Default '30s'; `--lock-timeout` wins.
   */
  lockTimeout?: string | number;
}

/** Typed identity: gives editors completion and type checking in `hybrid-migrate.config.ts`. */
export function defineConfig(config: HybridMigrateConfig): HybridMigrateConfig {
  return config;
}
