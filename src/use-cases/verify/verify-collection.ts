/**
 * Verification of one batch of source documents: registry state of each (migrated,
 * rejected, not yet migrated), then every migrated one converted again with the migration's
 * own rules and compared with the rows PostgreSQL holds for it.
 */
import type { Document } from 'mongodb';
import type pg from 'pg';
import type { MappedCollection } from '../../core/mapping.js';
import { idToUuid, sourceIdKey } from '../../core/ids.js';
import { diffDocument, ROW_PRESENT } from '../../core/verify-diff.js';
import type { ReferenceIndex } from '../../pipeline/reference-index.js';
import { newTiming, settleBatch } from '../../pipeline/settle-batch.js';
import type { CollectionVerification, VerifyMismatch } from './verify-result.js';
import { foldPositions } from './verify-result.js';
import { classifyKeys, readTargetRows, type KeyClassification } from './verify-target.js';
import { changedDocuments, type DocumentChange } from '../../state/ownership.js';
import { keptConflicts } from '../../state/conflicts.js';
import { REFUSED_BY_POSTGRES, writePlanFor } from '../../target/batch-writer.js';

/** Counters and samples of one collection, shared by its parallel batches. */
export class CollectionTally {
  source = 0;
  migrated = 0;
  rejected = 0;
  notMigrated = 0;
  mismatched = 0;
  checked = 0;
  changedByApplication = 0;
  readonly applicationChanges: CollectionVerification['applicationChanges'] = [];
  readonly fields = new Map<string, number>();
  readonly mismatches: VerifyMismatch[] = [];
  readonly missingRows: CollectionVerification['missingRows'] = [];

  constructor(readonly maxSamples: number) {}

  /** A document the application changed (or whose row it wrote itself): counted apart, not as a difference. */
  addApplicationChange(c: DocumentChange): void {
    this.changedByApplication++;
    if (this.applicationChanges.length < this.maxSamples) this.applicationChanges.push({ ...c, sourceId: displayId(c.sourceKey) });
  }

  addMismatches(list: readonly VerifyMismatch[]): void {
    this.mismatched++;
    for (const m of list) {
      const f = foldPositions(m.field);
      this.fields.set(f, (this.fields.get(f) ?? 0) + 1);
      if (this.mismatches.length < this.maxSamples) this.mismatches.push(m);
    }
  }
}

/** The `_id` as people read it: an ObjectId's hex, otherwise the registry key. */
export function displayId(sourceKey: string): string {
  return sourceKey.startsWith('oid:') ? sourceKey.slice(4) : sourceKey;
}

export interface BatchContext {
  pool: pg.Pool;
  mapped: MappedCollection;
  references: ReferenceIndex;
  tally: CollectionTally;
}

/**
 * Classifies `docs` (counts) and, when `compare` is set, compares the migrated ones with
 * their rows. `classify: false` (sample mode's second pass) only compares.
 */
export async function verifyBatch(ctx: BatchContext, docs: readonly Document[], opts: { classify: boolean; compare: boolean }): Promise<KeyClassification> {
  const { mapped, tally } = ctx;
  const keys = docs.map((d) => sourceIdKey(d._id));
  const state = await classifyKeys(ctx.pool, mapped.name, keys);
  const toCompare: { doc: Document; key: string; uuid: string }[] = [];
  docs.forEach((doc, i) => {
    const key = keys[i] as string;
    const uuid = state.migrated.get(key);
    if (opts.classify) {
      tally.source++;
      const left = state.leftToApplication.get(key);
      if (uuid !== undefined) tally.migrated++;
      else if (left) tally.addApplicationChange(left);
      else if (state.rejected.has(key)) tally.rejected++;
      else {
        tally.notMigrated++;
        if (tally.missingRows.length < tally.maxSamples) tally.missingRows.push({ sourceKey: key, sourceId: displayId(key), uuid: safeUuid(mapped.name, doc._id), reason: 'not-migrated' });
      }
    }
    if (opts.compare && uuid !== undefined) toCompare.push({ doc, key, uuid });
  });
  if (opts.classify && state.rejected.size > 0) await recheckRejected(ctx, docs.filter((_, i) => state.rejected.has(keys[i] as string)), state.rejected);
  if (toCompare.length > 0) await compareDocuments(ctx, toCompare);
  return state;
}

/**
 * A document set aside by the conversion or a reference may have been fixed in MongoDB since
 * (without an updatedAt the sync never reads it again): converted again, one that now passes
 * counts as not migrated, `rejected-since-fixed`, rather than as an accounted-for reject.
 * PostgreSQL's own refusals (a duplicate key…) cannot be judged without writing: left as rejected.
 */
async function recheckRejected(ctx: BatchContext, docs: readonly Document[], reasons: ReadonlyMap<string, string>): Promise<void> {
  const { mapped, tally } = ctx;
  const convertible = docs.filter((d) => !reasons.get(sourceIdKey(d._id))?.startsWith(REFUSED_BY_POSTGRES));
  if (convertible.length === 0) return;
  const settled = await settleBatch(mapped, convertible, { references: ctx.references, timing: newTiming(), deferred: 'settle' });
  for (const d of settled.docs) {
    tally.rejected--;
    tally.notMigrated++;
    if (tally.missingRows.length < tally.maxSamples) {
      tally.missingRows.push({ sourceKey: d.converted.sourceKey, sourceId: displayId(d.converted.sourceKey), uuid: d.converted.uuid, reason: 'rejected-since-fixed' });
    }
  }
}

/**
 * Sends the documents through the migration's batch pipeline (convert, check references:
 * settleBatch, the second pass of a cycle being done by now) and compares what a write would
 * send to PostgreSQL with the rows it holds.
 */
async function compareDocuments(ctx: BatchContext, items: readonly { doc: Document; key: string; uuid: string }[]): Promise<void> {
  const { mapped, tally } = ctx;
  const settled = await settleBatch(
    mapped,
    items.map((it) => it.doc),
    { references: ctx.references, timing: newTiming(), deferred: 'settle' },
  );
  const rows = await readTargetRows(ctx.pool, mapped, items.map((it) => it.uuid));
  const converted = new Map(settled.docs.map((d) => [d.converted.sourceKey, d.converted]));
  const rejected = new Map(settled.rejects.map((r) => [r.sourceKey, r]));
  const differing = new Map<string, VerifyMismatch[]>();
  // Documents under which the application added a child row of its own: changed by the application.
  const added = new Map<string, DocumentChange>();
  for (const it of items) {
    const target = rows.get(it.uuid);
    // A registered row that is gone is counted by the registry scan (verify.ts), in full and sample mode alike.
    if (!target) continue;
    tally.checked++;
    const base = { collection: mapped.name, sourceKey: it.key, sourceId: displayId(it.key), uuid: it.uuid };
    const doc = converted.get(it.key);
    if (!doc) {
      // The document converted when it was migrated; it does not any more (changed in MongoDB since).
      const r = rejected.get(it.key);
      differing.set(it.key, [{ ...base, field: r?.fieldPath || '(document)', column: mapped.model.table, source: `(rejected: ${r?.reason ?? 'not converted'})`, target: ROW_PRESENT }]);
      continue;
    }
    const diffs = diffDocument(mapped, doc, target);
    if (doc.uuid !== it.uuid) diffs.unshift({ field: '(id)', column: mapped.model.table, source: doc.uuid, target: it.uuid });
    if (target.foreign) added.set(it.key, { sourceKey: it.key, uuid: it.uuid, kind: 'modified-by-application', ...target.foreign });
    if (diffs.length > 0 || target.foreign) differing.set(it.key, diffs.map((d) => ({ ...base, ...d })));
  }
  const changed = await applicationChanges(ctx, [...differing.keys()], added);
  for (const [key, diffs] of differing) if (!changed.has(key)) tally.addMismatches(diffs);
}

/**
 * Of the documents that differ, those whose rows the application changed since migration
 * (registry hashes of the main row and the child rows): counted apart, with samples, and not
 * as mismatches — the difference is the application's, not the migration's.
 */
async function applicationChanges(ctx: BatchContext, keys: readonly string[], added: ReadonlyMap<string, DocumentChange>): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const plan = writePlanFor(ctx.mapped);
  const target = { collection: ctx.mapped.name, table: plan.main.table, tableName: ctx.mapped.model.table, idColumn: plan.main.idColumn };
  const changed = await changedDocuments(ctx.pool, target, plan.childRefs, keys);
  // A document the sync left alone for the application (a line it added where the document now
  // has one of its own): its migrated rows are intact, so only the conflict it recorded tells.
  for (const c of await keptConflicts(ctx.pool, ctx.mapped.name, keys.filter((k) => !changed.has(k)))) changed.set(c.sourceKey, c);
  for (const [key, c] of added) if (!changed.has(key)) changed.set(key, c);
  for (const c of changed.values()) ctx.tally.addApplicationChange(c);
  return new Set(changed.keys());
}

function safeUuid(collection: string, id: unknown): string | undefined {
  try {
    return idToUuid(collection, id);
  } catch {
    return undefined;
  }
}
