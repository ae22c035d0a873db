/**
 * One collection's scan for `plan`: reads every document (or a sample) as raw BSON, builds
 * the type histogram from an unpromoted decoding (Int32, Double and Int64 stay apart), and
 * runs the migration's own conversion (`convertDocument` + `settleReferences`, decoded with
 * the migration's read options) on every document, exactly as migrate-partition does, to
 * predict rejects, coercions, orphans and unique-constraint refusals. Writes nothing.
 */
import { BSON } from 'bson';
import type { Db, Document } from 'mongodb';
import type { SourceDocument } from '../../config/define-config.js';
import { InterruptedError } from '../../core/errors.js';
import type { MappedCollection, MappedColumn } from '../../core/mapping.js';
import { PlanFindings, SAMPLE_IDS, type FindingsJson } from '../../core/plan-findings.js';
import { uniqueChecks, UniqueTracker } from '../../core/plan-uniques.js';
import { unmappedPaths } from '../../core/plan-unmapped.js';
import { convertDocument, settleReferences, valueAt, type ConvertedDocument, type PendingReference } from '../../core/transform.js';
import { HISTOGRAM_READ_OPTIONS, TypeHistogram, type HistogramJson } from '../../core/type-histogram.js';
import { sourceIdKey } from '../../core/ids.js';
import { DEFAULT_MAX_BATCH_BYTES, EXACT_READ_OPTIONS, wireBatchSize } from '../../source/mongo-source.js';
import type { SourceReferenceIndex } from './plan-references.js';

/** How documents are chosen. */
export type ScanMode =
  | { kind: 'full' }
  /** `$sample` where the server has it; otherwise the first N documents in `_id` order (FerretDB has no `$sample`). */
  | { kind: 'sample'; size: number; method: '$sample' | 'first-by-id' };

export interface ScanContext {
  db: Db;
  references: SourceReferenceIndex;
  mode: ScanMode;
  batchSize: number;
  signal: AbortSignal;
  onBatch?: (read: number) => void;
}

/** Where a model field's value comes from, and how often the source has it. */
export interface ColumnPresence {
  /** `clientId`, or `items[].unitPrice` for a child model's column. */
  field: string;
  present: number;
  nulls: number;
  missing: number;
}

export interface DuplicateFinding {
  model: string;
  /** The unique constraint's fields (`workspaceId,phone`). */
  fields: string;
  /** Documents PostgreSQL would refuse. */
  count: number;
  /** `{id, firstId}`: the refused document and the one holding the key first. */
  samples: { id: string; firstId: string }[];
}

export interface CollectionScan {
  scanned: number;
  /** Documents migrate would write. */
  wouldWrite: number;
  /** Rows those documents become (child rows included). */
  rows: number;
  histogram: HistogramJson;
  findings: FindingsJson;
  duplicates: DuplicateFinding[];
  /** The unique-key memory bound was reached: duplicate counts are a lower bound. */
  duplicatesIncomplete: boolean;
  presence: ColumnPresence[];
  timing: { readMs: number; decodeMs: number; convertMs: number; referenceMs: number; analyseMs: number; totalMs: number };
}

export async function scanCollection(collection: MappedCollection, ctx: ScanContext): Promise<CollectionScan> {
  const started = performance.now();
  const histogram = new TypeHistogram();
  const findings = new PlanFindings();
  const uniques = new UniqueTracker(uniqueChecks(collection));
  const duplicates = new Map<string, DuplicateFinding>();
  const presence = new PresenceCounter(collection);
  const timing = { readMs: 0, decodeMs: 0, convertMs: 0, referenceMs: 0, analyseMs: 0, totalMs: 0 };
  let scanned = 0;
  let wouldWrite = 0;
  let rows = 0;

  const batches = readRawBatches(ctx.db, collection.name, ctx.mode, ctx.batchSize);
  try {
    for (;;) {
      if (ctx.signal.aborted) throw new InterruptedError('Interrupted: the plan was not finished and no plan file was written.');
      let t = performance.now();
      const next = await batches.next();
      timing.readMs += performance.now() - t;
      if (next.done) break;
      t = performance.now();
      const docs: Document[] = [];
      for (const raw of next.value) {
        histogram.observe(BSON.deserialize(raw, HISTOGRAM_READ_OPTIONS));
        docs.push(BSON.deserialize(raw, EXACT_READ_OPTIONS));
      }
      timing.decodeMs += performance.now() - t;

      // The same steps, in the same order, as migrate-partition's processBatch.
      t = performance.now();
      const converted: { doc: ConvertedDocument; source: Document }[] = [];
      for (const source of docs) {
        const r = convertDocument(collection, source);
        if (r.ok) converted.push({ doc: r.doc, source });
        else {
          findings.reject(r.sourceKey, r.path, r.reason);
          ctx.references.markRejected(collection.name, r.uuid);
        }
      }
      timing.convertMs += performance.now() - t;
      t = performance.now();
      await ctx.references.load(converted.map((c) => c.doc));
      timing.referenceMs += performance.now() - t;
      t = performance.now();
      for (const { doc } of converted) {
        const isDeferred = (ref: PendingReference) => {
          const src = ref.mapped.source;
          if (src.kind !== 'reference' || !src.deferred || ref.row !== 0) return false;
          // Resolved by migrate's second pass; reported here when the target is missing from the source.
          if (!ctx.references.exists(ref.targetCollection, ref.uuid)) findings.orphan(doc.sourceKey, `${collection.name}.${ref.mapped.label}`, ref.targetCollection, src.onMissing, true);
          return true;
        };
        const settled = settleReferences(
          doc,
          (target, uuid) => ctx.references.exists(target, uuid),
          isDeferred,
          (ref) => findings.orphan(doc.sourceKey, `${collection.name}.${ref.mapped.label}`, ref.targetCollection, ref.mapped.source.kind === 'reference' ? ref.mapped.source.onMissing : 'reject', false),
        );
        if (!settled.ok) {
          findings.reject(doc.sourceKey, settled.path, settled.reason);
          ctx.references.markRejected(collection.name, doc.uuid);
          continue;
        }
        for (const c of doc.coercions) findings.coercion(doc.sourceKey, c);
        const violation = uniques.check(doc);
        if (violation) {
          findings.reject(doc.sourceKey, violation.fields, `duplicate key (${violation.fields.replaceAll(',', ', ')}) of ${violation.model}: the document ${violation.firstId} holds it first`);
          ctx.references.markRejected(collection.name, doc.uuid);
          const key = `${violation.model}.${violation.fields}`;
          let d = duplicates.get(key);
          if (!d) duplicates.set(key, (d = { model: violation.model, fields: violation.fields, count: 0, samples: [] }));
          d.count++;
          if (d.samples.length < SAMPLE_IDS) d.samples.push({ id: doc.sourceKey, firstId: violation.firstId });
          continue;
        }
        wouldWrite++;
        rows += doc.rows.length;
      }
      timing.convertMs += performance.now() - t;

      t = performance.now();
      for (const source of docs) {
        const id = idText(source);
        const prepared = prepareSafely(collection, source);
        if (!prepared) continue;
        presence.observe(prepared);
        for (const u of unmappedPaths(collection, prepared)) findings.unmappedField(id, u.path, u.destination);
      }
      timing.analyseMs += performance.now() - t;
      scanned += docs.length;
      ctx.onBatch?.(docs.length);
    }
  } finally {
    await batches.return(undefined);
  }
  timing.totalMs = performance.now() - started;
  for (const k of Object.keys(timing) as (keyof typeof timing)[]) timing[k] = Math.round(timing[k]);
  return {
    scanned,
    wouldWrite,
    rows,
    histogram: histogram.toJSON(),
    findings: findings.toJSON(),
    duplicates: [...duplicates.values()],
    duplicatesIncomplete: uniques.incomplete,
    presence: presence.toJSON(),
    timing,
  };
}

/** The document's source key, as migrate records it in hybrid_migrate.rejects (`oid:<hex>`). */
function idText(doc: Document): string {
  try {
    return sourceIdKey(doc._id);
  } catch {
    return 'undefined:';
  }
}

function prepareSafely(collection: MappedCollection, doc: Document): SourceDocument | undefined {
  try {
    return collection.prepare ? collection.prepare(doc) : doc;
  } catch {
    return undefined; // convertDocument already reported it as a reject
  }
}

/** Raw BSON documents, in batches: the whole collection in `_id` order, or a sample. */
async function* readRawBatches(db: Db, name: string, mode: ScanMode, batchSize: number): AsyncGenerator<Uint8Array[]> {
  const coll = db.collection(name);
  // Like migrate's reader: replies and batches bounded in bytes too, whatever the documents' size.
  const wire = await wireBatchSize(db, name, batchSize);
  const cursor =
    mode.kind === 'sample' && mode.method === '$sample'
      ? coll.aggregate([{ $sample: { size: mode.size } }], { raw: true, batchSize: wire })
      : coll.find({}, { sort: { _id: 1 }, raw: true, batchSize: wire, ...(mode.kind === 'sample' ? { limit: mode.size } : {}) });
  try {
    let batch: Uint8Array[] = [];
    let bytes = 0;
    for await (const doc of cursor) {
      const raw = doc as unknown as Uint8Array;
      batch.push(raw);
      bytes += raw.byteLength;
      if (batch.length >= batchSize || bytes >= DEFAULT_MAX_BATCH_BYTES) {
        yield batch;
        batch = [];
        bytes = 0;
      }
    }
    if (batch.length > 0) yield batch;
  } finally {
    await cursor.close().catch(() => undefined);
  }
}

/** Per mapped column: documents (or array elements, for child columns) where the source value is present, null or missing. */
class PresenceCounter {
  private readonly main: { column: MappedColumn; counts: [number, number, number] }[];
  private readonly children: { label: string; from: MappedCollection['children'][number]['from']; columns: { column: MappedColumn; counts: [number, number, number] }[] }[];

  constructor(collection: MappedCollection) {
    const withPath = (cols: readonly MappedColumn[]) => cols.filter((c) => c.source.kind === 'value' || c.source.kind === 'reference').map((column) => ({ column, counts: [0, 0, 0] as [number, number, number] }));
    this.main = withPath(collection.columns);
    this.children = collection.children.map((c) => ({ label: c.label, from: c.from, columns: withPath(c.columns) }));
  }

  observe(doc: SourceDocument): void {
    count(this.main, doc);
    for (const child of this.children) {
      let value: unknown;
      try {
        value = typeof child.from === 'function' ? child.from(doc) : valueAt(doc, child.from);
      } catch {
        continue;
      }
      if (!Array.isArray(value)) continue;
      for (const element of value) if (element !== null && typeof element === 'object' && !Array.isArray(element)) count(child.columns, element as SourceDocument);
    }
  }

  toJSON(): ColumnPresence[] {
    const out = (cols: { column: MappedColumn; counts: [number, number, number] }[], prefix: string) =>
      cols.map(({ column, counts }) => ({ field: `${prefix}${column.column.field}`, present: counts[0], nulls: counts[1], missing: counts[2] }));
    return [...out(this.main, ''), ...this.children.flatMap((c) => out(c.columns, `${c.label}[].`))];
  }
}

function count(cols: { column: MappedColumn; counts: [number, number, number] }[], doc: SourceDocument): void {
  for (const { column, counts } of cols) {
    const s = column.source;
    if (s.kind !== 'value' && s.kind !== 'reference') continue;
    const v = valueAt(doc, s.path);
    counts[v === undefined ? 2 : v === null ? 1 : 0]++;
  }
}
