/**
 * The result of `verify`, per collection: counts that add up (source = migrated + rejected
 * + not yet migrated), the differences found, and samples of each for the report.
 */

/** One field that differs between the converted source document and its PostgreSQL row(s). */
export interface VerifyMismatch {
  collection: string;
  /** The registry's source key (`oid:<hex>`, `str:<s>`, …). */
  sourceKey: string;
  /** The source `_id` as shown to people: the hex of an ObjectId, else the source key. */
  sourceId: string;
  /** The document's row id in PostgreSQL. */
  uuid: string;
  /** Prisma field path: `deliveryFee`, `items[2].unitPrice`, `items.length`, `(row)`. */
  field: string;
  /** `table.column` (or `table` for a whole row). */
  column: string;
  source: string | null;
  target: string | null;
}

/** A migrated document the application changed or deleted rows of since migration. */
export interface VerifyApplicationChange {
  sourceKey: string;
  sourceId: string;
  uuid: string;
  kind: 'modified-by-application' | 'deleted-by-application';
  table: string;
  row: string;
}

/** A row of the migration that no current source document accounts for. */
export interface VerifyExtraRow {
  uuid: string;
  /** Registry source key, when the row is registered. */
  sourceKey: string | null;
  reason: 'source-deleted' | 'unregistered-copy' | 'registered-under-other-id';
}

/** A source document that should have a row and has none. */
export interface VerifyMissingRow {
  sourceKey: string;
  sourceId: string;
  /** The uuid the row would have (registered, or derived from the `_id`). */
  uuid: string | undefined;
  /**
   * 'not-migrated'; 'rejected-since-fixed': set aside by an earlier run, but the document as it
   * is now converts (migrate --incremental --detect-changes or --restart writes it); 'row-deleted'
   * is kept for readers of older reports (rows the application deleted are applicationChanges).
   */
  reason: 'not-migrated' | 'rejected-since-fixed' | 'row-deleted';
}

export interface CollectionVerification {
  name: string;
  model: string;
  table: string;
  /** Documents in MongoDB. */
  source: number;
  /** The migration's rows in PostgreSQL: registered rows present, plus unregistered rows of the migration's id space. */
  target: number;
  /** Source documents registered in id_map. */
  migrated: number;
  /** Source documents set aside in hybrid_migrate.rejects (and not registered). */
  rejected: number;
  /** Source documents neither migrated nor rejected. */
  notMigrated: number;
  /** Source documents without their row that the migration has not written yet (rows the application deleted are deletedByApplication). */
  missing: number;
  /** Rows no current source document accounts for (deleted in MongoDB, copies, mis-registered). */
  extra: number;
  /** Documents whose row(s) differ from the conversion of the source document while the migration still owns them unchanged. */
  mismatched: number;
  /**
   * Documents whose rows differ because the application changed them since they were migrated
   * (main row or a child row, by the hashes recorded in id_map): not mismatched, not an error.
   */
  changedByApplication: number;
  /** Registered documents whose row the application deleted (not counted as missing: not an error). */
  deletedByApplication: number;
  /** Samples of both: the document, the kind and the row (table, id) found changed or deleted. */
  applicationChanges: VerifyApplicationChange[];
  /** Documents compared field by field (all migrated ones, or the sample's). */
  checked: number;
  /** Registry entries whose source key cannot be looked up by `_id` (exotic `_id` types): not checked for deletion. */
  uncheckedRegistry: number;
  /**
   * Rows whose documents were deleted in MongoDB and that --detect-deletes kept on purpose (other
   * rows still reference them, or the application changed them: a `deleted-in-source-but-kept`
   * conflict): reported, not differences.
   */
  keptDeletedInSource: number;
  /** Differences per field path (array positions folded: `items[].unitPrice`). */
  fields: Record<string, number>;
  mismatches: VerifyMismatch[];
  missingRows: VerifyMissingRow[];
  extraRows: VerifyExtraRow[];
  rejectSamples: { sourceKey: string; fieldPath: string; reason: string }[];
  durationMs: number;
}

export interface VerifyResult {
  ok: boolean;
  startedAt: string;
  durationMs: number;
  /** null: every document; otherwise the sample size per collection. */
  sample: number | null;
  interrupted: boolean;
  /** Rejected documents make the result not ok (`--fail-on-rejects`). */
  failOnRejects: boolean;
  collections: CollectionVerification[];
}

/** Whether a collection's verification found no difference. */
export function collectionAgrees(c: CollectionVerification, failOnRejects: boolean): boolean {
  return c.missing === 0 && c.extra === 0 && c.mismatched === 0 && (!failOnRejects || c.rejected === 0);
}

/** `items[2].unitPrice` → `items[].unitPrice`: one counter per field, not per position. */
export function foldPositions(field: string): string {
  return field.replace(/\[[^\]]*\]/g, '[]');
}
