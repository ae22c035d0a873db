/**
 * Writes one batch in ONE PostgreSQL transaction: the rows, their child rows, their
 * id_map entries, the rejects and the checkpoint commit together, so the checkpoint is
 * never ahead of or behind the data (umzug's rule: record progress only with the work).
 *
 * A batch that PostgreSQL refuses (a unique or foreign-key violation) is split in halves
 * under savepoints until the guilty documents are isolated (pgloader's method): one bad
 * document never costs its batch.
 */
import { createHash, hash } from 'node:crypto';
import type pg from 'pg';
import type { MappedCollection } from '../core/mapping.js';
import type { ConvertedDocument } from '../core/transform.js';
import { writtenColumns } from '../core/transform.js';
import { qualifiedTable, quoteIdent, type SchemaModel } from '../schema/prisma-schema.js';
import { copyRowBytes, encodeRows, RowBytes } from './copy.js';
import { changedDocuments, isMigrationChild, replaceableRowSql, writtenChildRowsTemplate, type ChildTableRef, type DocumentChange } from '../state/ownership.js';
import { recordedSourceHashes, registerRows } from '../state/registry.js';
import { forgetWrittenRejects, recordRejects, type RejectRecord } from '../state/rejects.js';
import { recordDeferred, type DeferredRecord } from '../state/deferred-refs.js';
import { recordConflicts } from '../state/conflicts.js';
import { describePgError } from './pg-target.js';
import { stateTable } from '../state/schema.js';
import { withTransaction } from './transaction.js';
import { faultPoint } from '../runtime/fault.js';
import { SLICE_DOCS, Slices } from '../runtime/cooperative.js';

export type { RejectRecord, DeferredRecord };

export interface BatchDocument {
  converted: ConvertedDocument;
  /** Canonical Extended JSON of the source document, used if PostgreSQL refuses it. */
  sourceJson: () => string;
  deferred: DeferredRecord[];
}

export interface BatchInput {
  docs: BatchDocument[];
  rejects: RejectRecord[];
  /**
   * Records the progress this batch makes (a range checkpoint, a sync cursor), inside the
   * batch's transaction: progress is never ahead of or behind the data.
   */
  progress: (client: pg.PoolClient, outcome: BatchProgress) => Promise<void>;
  /**
   * Work for Node while PostgreSQL is busy with the batch and needs nothing from Node: called
   * (once) right after the registry statement, the batch's longest, has been sent. A range
   * worker collects garbage there (the memory budget): between batches, the collection kept
   * PostgreSQL waiting for the next batch's first statement.
   */
  whilePostgresWorks?: () => void;
}

/** What a batch changed, as its progress records it. */
export interface BatchProgress {
  written: number;
  /** Rejects new or changed in this batch. */
  rejected: number;
  /** Documents left alone because the application changed their rows (each recorded as a conflict). */
  conflicts: number;
}

export interface WriteOptions {
  /** 'fresh': COPY straight into tables the migration never wrote in this range; 'upsert': through staging. */
  mode: 'fresh' | 'upsert';
  /** Upsert: a row the application changed since it was migrated is skipped and reported ('skip'), or replaced ('overwrite'). */
  onConflict: 'skip' | 'overwrite';
}

export interface BatchOutcome {
  written: number;
  /** Documents PostgreSQL refused, isolated by splitting (the conversion rejects are not repeated here). */
  refused: RejectRecord[];
  /** Upsert mode: documents whose rows (main or child) the application changed or deleted since migration; left as they are. */
  skippedModified: string[];
  /** Upsert mode with onConflict 'overwrite': documents the application had changed or deleted, overwritten (or written again) on request. */
  overwritten: DocumentChange[];
  /** Upsert mode: documents whose converted rows are exactly what was written before: not written again. */
  unchanged: number;
}

/** Precomputed SQL for one model (the collection's or a child's). */
interface TableWrite {
  model: SchemaModel;
  table: string;
  columns: string[];
  idColumn: string;
  /** Child tables: the column holding the parent's id. */
  parentColumn: string | undefined;
  /** Child tables: the column holding the array position (with the parent's id, it determines a child's UUID). */
  positionColumn: string | undefined;
}

export interface WritePlan {
  collection: MappedCollection;
  main: TableWrite;
  children: TableWrite[];
  /** The child tables as the owned-rows rule reads them (same order as `children`). */
  childRefs: ChildTableRef[];
}

export function writePlanFor(collection: MappedCollection): WritePlan {
  const main: TableWrite = {
    model: collection.model,
    table: qualifiedTable(collection.model),
    columns: writtenColumns(collection.columns).map((c) => quoteIdent(c.column.column)),
    idColumn: quoteIdent(collection.model.columnsByField.get(collection.model.idField)?.column ?? 'id'),
    parentColumn: undefined,
    positionColumn: undefined,
  };
  const children = collection.children.map((child) => ({
    model: child.model,
    table: qualifiedTable(child.model),
    columns: writtenColumns(child.columns).map((c) => quoteIdent(c.column.column)),
    idColumn: quoteIdent(child.idColumn.column),
    parentColumn: quoteIdent(child.columns.find((c) => c.source.kind === 'parent')?.column.column ?? 'parent_id'),
    positionColumn: quoteIdent(child.columns.find((c) => c.source.kind === 'position')?.column.column ?? 'position'),
  }));
  const childRefs = children.map((c) => ({
    table: c.table,
    tableName: c.model.table,
    idColumn: c.idColumn,
    parentColumn: c.parentColumn,
    positionColumn: c.positionColumn,
    modelName: c.model.name,
  }));
  return { collection, main, children, childRefs };
}

/** Hash of everything a document becomes (its rows, child rows included): equal hash, nothing to write again. */
export function sourceHash(doc: ConvertedDocument): string {
  let h = hashCache.get(doc);
  // The md5 of the document's COPY lines, one after the other, in UTF-8.
  if (h === undefined) hashCache.set(doc, (h = hash('md5', encodedRows(doc).bytes, 'hex')));
  return h;
}

/**
 * Makes the COPY text and hash of settled documents ahead of their write, a slice at a time
 * (a range worker does it while the batch before is being written). The rows must be final:
 * nothing changes a settled document's rows.
 */
export async function prepareRows(docs: readonly BatchDocument[]): Promise<void> {
  const slices = new Slices();
  for (let i = 0; i < docs.length; i++) {
    if (i > 0 && i % SLICE_DOCS === 0 && slices.due()) await slices.next();
    const doc = (docs[i] as BatchDocument).converted;
    sourceHash(doc);
    // The write reads the rows' COPY bytes from here on: their values (strings by the tens of
    // thousands per batch) are let go instead of being kept until the batch commits.
    for (const row of doc.rows) row.values = RELEASED;
  }
}

/** The values of a row whose COPY bytes are made (prepareRows): reading them again is a bug, and encodedRows says so. */
const RELEASED: (string | null)[] = Object.freeze([]) as unknown as (string | null)[];

const hashCache = new WeakMap<ConvertedDocument, string>();

/** A document's COPY lines, encoded: row r's line is `bytes` up to `ends[r]`, from the end of the row before. */
interface EncodedRows {
  bytes: Buffer;
  ends: number[];
}

/**
 * The COPY lines of a document's rows, built once and shared by the hash and the COPY itself
 * (a document near the 16 MB BSON limit must not be turned into text three times), and kept
 * as UTF-8 in a Buffer: off the JS heap, the lines of a batch waiting for its write are not
 * copied from one young generation to the next by every scavenge, nor joined again into
 * chunks and encoded by the COPY stream.
 */
const encodedCache = new WeakMap<ConvertedDocument, EncodedRows>();
function encodedRows(doc: ConvertedDocument): EncodedRows {
  let encoded = encodedCache.get(doc);
  if (!encoded) {
    if (doc.rows.some((row) => row.values === RELEASED)) throw new Error(`internal: the rows of ${doc.sourceKey} were released before their COPY bytes were made`);
    encodedCache.set(doc, (encoded = encodeRows(doc.rows.map((row) => row.values))));
  }
  return encoded;
}

/**
 * Writes a batch in one transaction, again when PostgreSQL rolled it back to break a deadlock
 * or a serialization failure (the batch as it was: nothing of it committed). Two `_id` ranges
 * writing the same unique key (a phone two clients share, one in each range) deadlock inside
 * their COPYs; retried, the batch meets the other range's committed row as a duplicate key and
 * sets its document aside, as one range does.
 */
export async function writeBatch(pool: pg.Pool, plan: WritePlan, runId: string, input: BatchInput, options: WriteOptions): Promise<BatchOutcome> {
  return retryTransient(() => writeBatchOnce(pool, plan, runId, input, options));
}

/** SQLSTATEs of a transaction PostgreSQL rolled back on its own, to be run again: deadlock, serialization failure. */
const TRANSIENT = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 6;

/** Runs `attempt` (one whole transaction) until it commits, again after a transient rollback, at most MAX_ATTEMPTS times. */
export async function retryTransient<T>(attempt: () => Promise<T>, attempts = MAX_ATTEMPTS): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      if (n >= attempts || !TRANSIENT.has(String((e as { code?: unknown }).code))) throw e;
      // The other transaction gets a head start to commit; jittered, so that two waiting batches do not meet again.
      await new Promise((resolve) => setTimeout(resolve, 20 * n * (1 + Math.random())));
    }
  }
}

async function writeBatchOnce(pool: pg.Pool, plan: WritePlan, runId: string, input: BatchInput, options: WriteOptions): Promise<BatchOutcome> {
  const outcome = await withTransaction(pool, async (client) => {
    const refused: RejectRecord[] = [];
    const kept: DocumentChange[] = [];
    const overwritten: DocumentChange[] = [];
    let docs = input.docs;
    let unchanged = 0;
    if (options.mode === 'upsert') {
      docs = await changedOnly(client, plan.collection.name, docs);
      unchanged = input.docs.length - docs.length;
    }
    let meanwhile = input.whilePostgresWorks;
    const once = () => {
      const run = meanwhile;
      meanwhile = undefined;
      run?.();
    };
    const written = await writeIsolating(client, plan, runId, docs, options, refused, { kept, overwritten }, once);
    // A batch that registered nothing (all refused, unchanged or kept) still gets its turn.
    once();
    const skippedModified = kept.map((c) => c.sourceKey);
    const newRejects = await recordRejects(client, plan.collection.name, runId, [...input.rejects, ...refused]);
    const refusedKeys = new Set(refused.map((r) => r.sourceKey));
    const keptKeys = new Set(skippedModified);
    if (options.mode === 'upsert' && written > 0) {
      // A document rejected by an earlier run and written now (fixed in MongoDB, --restart,
      // --detect-changes) is no reject any more: status and plan count what is still set aside.
      await forgetWrittenRejects(client, plan.collection.name, docs.map((d) => d.converted.sourceKey).filter((k) => !refusedKeys.has(k) && !keptKeys.has(k)));
    }
    // Only for documents written: a document refused or left to the application has no row of the migration's to complete.
    await recordDeferred(client, plan.collection.name, runId, docs.filter((d) => !refusedKeys.has(d.converted.sourceKey) && !keptKeys.has(d.converted.sourceKey)).flatMap((d) => d.deferred));
    // One conflict per document kept, naming the row found changed or deleted.
    for (const kind of ['modified-by-application', 'deleted-by-application'] as const) {
      await recordConflicts(client, plan.collection.name, runId, kind, kept.filter((c) => c.kind === kind));
      // onConflict 'overwrite' replaced what the application changed: reported too, as overwritten.
      await recordConflicts(client, plan.collection.name, runId, kind, overwritten.filter((c) => c.kind === kind), 'overwritten');
    }
    // Progress counts what this batch changed: a batch that only met known rejects and unchanged rows leaves no trace.
    await input.progress(client, { written, rejected: newRejects, conflicts: skippedModified.length });
    faultPoint('migrate:before-commit');
    return { written, refused, skippedModified, overwritten, unchanged };
  });
  faultPoint('migrate:after-commit');
  return outcome;
}

/** Writes docs under a savepoint; on refusal, splits until each refused document is alone. */
async function writeIsolating(
  client: pg.PoolClient,
  plan: WritePlan,
  runId: string,
  docs: readonly BatchDocument[],
  options: WriteOptions,
  refused: RejectRecord[],
  changes: { kept: DocumentChange[]; overwritten: DocumentChange[] },
  whilePostgresWorks: () => void,
): Promise<number> {
  if (docs.length === 0) return 0;
  await client.query('SAVEPOINT hm_batch');
  try {
    const found: { kept: DocumentChange[]; overwritten: DocumentChange[] } = { kept: [], overwritten: [] };
    const n = await writeDocs(client, plan, runId, docs, options, found, whilePostgresWorks);
    await client.query('RELEASE SAVEPOINT hm_batch');
    // Only what a committed attempt found: a refused half is split and checked again.
    changes.kept.push(...found.kept);
    changes.overwritten.push(...found.overwritten);
    return n;
  } catch (e) {
    if (!isDataError(e)) throw e;
    await client.query('ROLLBACK TO SAVEPOINT hm_batch');
    await client.query('RELEASE SAVEPOINT hm_batch');
    // The application holds rows under some of these documents' UUIDs (it saved them through
    // Prisma before the migration reached them): the rows are its own, never touched, and the
    // documents are left to it, each recorded as a conflict, not refused into the rejects. All
    // of them found at once on a duplicate key, so that many of them cost no split each.
    if (docs.length === 1 || (e as { code?: unknown }).code === '23505') {
      const held = await applicationHeldRows(client, plan, docs);
      if (held.size > 0) {
        for (const d of docs) {
          if (held.has(d.converted.uuid.toLowerCase())) changes.kept.push({ sourceKey: d.converted.sourceKey, uuid: d.converted.uuid, kind: 'modified-by-application', table: plan.main.model.table, row: d.converted.uuid });
        }
        return writeIsolating(client, plan, runId, docs.filter((d) => !held.has(d.converted.uuid.toLowerCase())), options, refused, changes, whilePostgresWorks);
      }
    }
    if (docs.length === 1) {
      const doc = docs[0] as BatchDocument;
      refused.push({ sourceKey: doc.converted.sourceKey, fieldPath: fieldOfPgError(e, plan), reason: `${REFUSED_BY_POSTGRES}${describePgError(e)}`, document: doc.sourceJson() });
      return 0;
    }
    const mid = docs.length >> 1;
    return (
      (await writeIsolating(client, plan, runId, docs.slice(0, mid), options, refused, changes, whilePostgresWorks)) +
      (await writeIsolating(client, plan, runId, docs.slice(mid), options, refused, changes, whilePostgresWorks))
    );
  }
}

/** Of the documents' UUIDs (lowercase), those under which the main table holds a row the migration did not write (no registry entry names it). */
async function applicationHeldRows(client: pg.PoolClient, plan: WritePlan, docs: readonly BatchDocument[]): Promise<Set<string>> {
  const r = await client.query<{ id: string }>(
    `SELECT t.${plan.main.idColumn}::text AS id FROM ${plan.main.table} t WHERE t.${plan.main.idColumn} = ANY($1::uuid[])
       AND NOT EXISTS (SELECT 1 FROM ${stateTable('id_map')} m WHERE m.uuid = t.${plan.main.idColumn})`,
    [docs.map((d) => d.converted.uuid)],
  );
  return new Set(r.rows.map((row) => row.id.toLowerCase()));
}

/** How the reason of a document PostgreSQL refused begins (verify tells these from the conversion's rejects by it). */
export const REFUSED_BY_POSTGRES = 'PostgreSQL refused the row: ';

/** SQLSTATE classes caused by a row's content (22 data exception, 23 integrity violation): worth isolating. */
function isDataError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/** The field a constraint error is about, from "Key (workspace_id, phone)=(…)" or the column name. */
function fieldOfPgError(e: unknown, plan: WritePlan): string {
  const err = e as { detail?: string; column?: string; table?: string };
  const cols = err.column ? [err.column] : (/Key \(([^)]*)\)/.exec(err.detail ?? '')?.[1]?.split(', ') ?? []);
  const models = [plan.main.model, ...plan.children.map((c) => c.model)];
  const model = models.find((m) => m.table === err.table) ?? plan.main.model;
  const fields = cols.map((c) => model.columns.find((mc) => mc.column === c.replace(/"/g, ''))?.field ?? c);
  return fields.length > 0 ? fields.join(',') : '(row)';
}

async function writeDocs(
  client: pg.PoolClient,
  plan: WritePlan,
  runId: string,
  allDocs: readonly BatchDocument[],
  options: WriteOptions,
  changes: { kept: DocumentChange[]; overwritten: DocumentChange[] },
  whilePostgresWorks: () => void,
): Promise<number> {
  let docs = allDocs;
  if (options.mode === 'upsert') {
    // A document is a unit: if the application changed or deleted any of its rows (main or
    // child), none of them is written, unless the collection says 'overwrite'.
    const target = { collection: plan.collection.name, table: plan.main.table, tableName: plan.main.model.table, idColumn: plan.main.idColumn };
    const changed = await changedDocuments(client, target, plan.childRefs, docs.map((d) => d.converted.sourceKey));
    if (changed.size > 0) {
      if (options.onConflict === 'overwrite') changes.overwritten.push(...changed.values());
      else {
        changes.kept.push(...changed.values());
        docs = docs.filter((d) => !changed.has(d.converted.sourceKey));
      }
    }
    // A child row the application added where the document now has one of its own (same
    // parent and position): the application's row is never touched, so the document is kept
    // as it is (even with 'overwrite') and recorded, never refused into the rejects.
    const clashes = await applicationChildClashes(client, plan, docs);
    if (clashes.size > 0) {
      changes.kept.push(...clashes.values());
      docs = docs.filter((d) => !clashes.has(d.converted.sourceKey));
    }
    if (docs.length === 0) return 0;
  }
  const mainLines = new RowBytes();
  const childLines = plan.children.map(() => new RowBytes());
  for (const d of docs) {
    const { bytes, ends } = encodedRows(d.converted);
    for (let r = 0, start = 0; r < d.converted.rows.length; start = ends[r] as number, r++) {
      const row = d.converted.rows[r] as ConvertedDocument['rows'][number];
      (row.child === null ? mainLines : (childLines[row.child] as RowBytes)).push(bytes, start, ends[r] as number);
    }
  }
  let written: readonly BatchDocument[] = docs;
  if (options.mode === 'fresh') {
    await copyRowBytes(client, plan.main.table, plan.main.columns, mainLines);
    for (let i = 0; i < plan.children.length; i++) {
      const child = plan.children[i] as TableWrite;
      await copyRowBytes(client, child.table, child.columns, childLines[i] as RowBytes);
    }
  } else {
    const writtenUuids = mainLines.length > 0 ? await upsertRows(client, plan, mainLines, childLines, options.onConflict) : [];
    // The guard refused a row changed since the check above (the application is writing now).
    const writtenSet = new Set(writtenUuids.map((u) => u.toLowerCase()));
    const upserted: BatchDocument[] = [];
    written = upserted;
    for (const d of docs) {
      if (writtenSet.has(d.converted.uuid.toLowerCase())) upserted.push(d);
      else changes.kept.push({ sourceKey: d.converted.sourceKey, uuid: d.converted.uuid, kind: 'modified-by-application', table: plan.main.model.table, row: d.converted.uuid });
    }
  }
  if (written.length === 0) return 0;
  const target = { collection: plan.collection.name, tableName: plan.main.model.table, table: plan.main.table, idColumn: plan.main.idColumn };
  const registering = registerRows(client, target, runId, registryEntries(plan, written));
  try {
    whilePostgresWorks();
  } finally {
    // Awaited even when the hook threw: the statement is on the batch's connection, and its failure must not go unhandled.
    await registering;
  }
  return written.length;
}

/** The registry's arrays for documents just written: keys, uuids, conversion hashes and (with child tables) child-rows templates. */
function registryEntries(plan: WritePlan, docs: readonly BatchDocument[]): { keys: string[]; uuids: string[]; hashes: string[]; children?: string[] } {
  const keys: string[] = [];
  const uuids: string[] = [];
  const hashes: string[] = [];
  const children: string[] = [];
  for (const d of docs) {
    keys.push(d.converted.sourceKey);
    uuids.push(d.converted.uuid);
    hashes.push(sourceHash(d.converted));
    if (plan.children.length === 0) continue;
    const rows: { table: number; position: number }[] = [];
    for (const row of d.converted.rows) {
      if (row.child === null) continue;
      rows.push({ table: row.child, position: row.position });
    }
    children.push(writtenChildRowsTemplate(rows));
  }
  return plan.children.length > 0 ? { keys, uuids, hashes, children } : { keys, uuids, hashes };
}

/**
 * Upsert through staging tables: rows the migration wrote before and the application has not
 * changed since (hash recorded in id_map equals the current row's) are replaced, with their
 * child rows; rows changed by the application are left alone and reported. New rows are
 * inserted. Never touches a row the application created (its id cannot be one of ours).
 */
async function upsertRows(client: pg.PoolClient, plan: WritePlan, mainLines: RowBytes, childLines: RowBytes[], onConflict: 'skip' | 'overwrite'): Promise<string[]> {
  const stage = await stageTable(client, plan.main);
  await copyRowBytes(client, stage, plan.main.columns, mainLines);
  const sets = plan.main.columns.filter((c) => c !== plan.main.idColumn).map((c) => `${c} = EXCLUDED.${c}`);
  // Only rows the migration wrote (in id_map) are ever updated; with 'skip', only while unchanged since.
  const guard = replaceableRowSql('t', plan.main.idColumn, onConflict);
  const r = await client.query<{ id: string }>(
    `INSERT INTO ${plan.main.table} AS t (${plan.main.columns.join(', ')})
     SELECT ${plan.main.columns.join(', ')} FROM ${stage}
     ON CONFLICT (${plan.main.idColumn}) DO UPDATE SET ${sets.join(', ')}
       WHERE ${guard}
     RETURNING t.${plan.main.idColumn} AS id`,
  );
  const ids = r.rows.map((row) => row.id);
  for (let i = 0; i < plan.children.length; i++) {
    const child = plan.children[i] as TableWrite;
    const childStage = await stageTable(client, child);
    await copyRowBytes(client, childStage, child.columns, childLines[i] as RowBytes);
    // Replace only the child rows the migration wrote (their UUID derives from parent and position):
    // a line the application added to a migrated order stays.
    const existing = await client.query<{ id: string; parent: string; position: number }>(
      `SELECT ${child.idColumn}::text AS id, ${child.parentColumn}::text AS parent, ${child.positionColumn} AS position FROM ${child.table} WHERE ${child.parentColumn} = ANY($1::uuid[])`,
      [ids],
    );
    const ours = existing.rows.filter((row) => isMigrationChild(row, child.model.name)).map((row) => row.id);
    if (ours.length > 0) await client.query(`DELETE FROM ${child.table} WHERE ${child.idColumn} = ANY($1::uuid[])`, [ours]);
    await client.query(`INSERT INTO ${child.table} (${child.columns.join(', ')}) SELECT ${child.columns.join(', ')} FROM ${childStage} WHERE ${child.parentColumn} = ANY($1::uuid[])`, [ids]);
  }
  // Emptied for the next attempt inside this transaction (a split batch stages again).
  await client.query(`DELETE FROM ${stage}`);
  for (const child of plan.children) await client.query(`DELETE FROM pg_temp.${stagingName(child.model)}`);
  return ids;
}

/** Documents whose child rows would take a (parent, position) that a child row of the application holds. */
async function applicationChildClashes(client: pg.PoolClient, plan: WritePlan, docs: readonly BatchDocument[]): Promise<Map<string, DocumentChange>> {
  const out = new Map<string, DocumentChange>();
  if (docs.length === 0 || plan.children.length === 0) return out;
  const parents = docs.map((d) => d.converted.uuid);
  for (const [i, child] of plan.children.entries()) {
    const r = await client.query<{ id: string; parent: string; position: number }>(
      `SELECT ${child.idColumn}::text AS id, ${child.parentColumn}::text AS parent, ${child.positionColumn} AS position FROM ${child.table} WHERE ${child.parentColumn} = ANY($1::uuid[])`,
      [parents],
    );
    const foreign = new Map<string, string>();
    for (const row of r.rows) if (!isMigrationChild(row, child.model.name)) foreign.set(`${row.parent}|${row.position}`, row.id);
    if (foreign.size === 0) continue;
    for (const d of docs) {
      if (out.has(d.converted.sourceKey)) continue;
      for (const row of d.converted.rows) {
        if (row.child !== i) continue;
        const appRow = foreign.get(`${d.converted.uuid.toLowerCase()}|${row.position}`);
        if (appRow === undefined) continue;
        out.set(d.converted.sourceKey, { sourceKey: d.converted.sourceKey, uuid: d.converted.uuid, kind: 'modified-by-application', table: child.model.table, row: appRow });
        break;
      }
    }
  }
  return out;
}

/** Drops the documents whose converted rows hash to what id_map says was written last time. */
async function changedOnly(client: pg.PoolClient, collection: string, docs: readonly BatchDocument[]): Promise<BatchDocument[]> {
  if (docs.length === 0) return [];
  const stored = await recordedSourceHashes(client, collection, docs.map((d) => d.converted.sourceKey));
  return docs.filter((d) => stored.get(d.converted.sourceKey) !== sourceHash(d.converted));
}


/**
 * The (quoted) name of the session's staging table for a model: a digest of schema and table,
 * so two tables never share one (not even when their names only differ past PostgreSQL's
 * 63-byte limit, or live in two schemas), and the name always fits.
 */
function stagingName(model: SchemaModel): string {
  const digest = createHash('sha256').update(`${model.dbSchema}.${model.table}`).digest('hex').slice(0, 16);
  return quoteIdent(`hm_stage_${digest}`);
}

/** Creates the model's staging table in this session if needed; returns its qualified name. */
async function stageTable(client: pg.PoolClient, table: TableWrite): Promise<string> {
  const name = stagingName(table.model);
  await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${name} (LIKE ${table.table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`);
  return `pg_temp.${name}`;
}


