/**
 * One collection's scan for `plan`: reads every document (or a sample) as raw BSON, builds
 * the type histogram from an unpromoted decoding (Int32, Double and Int64 stay apart), and
 * sends every document through the migration's own batch pipeline (src/pipeline: convert,
 * check references, then the unique-key prediction instead of a write) — exactly what
 * `migrate --dry-run` runs — with the plan's analysis (findings, column presence, unmapped
 * fields) as its observer. Writes nothing.
 */
import { BSON } from '../../core/bson.js';
import type { Db, Document } from 'mongodb';
import type { SourceDocument } from '../../config/define-config.js';
import { InterruptedError } from '../../core/errors.js';
import { sourceIdKey } from '../../core/ids.js';
import type { MappedCollection, MappedColumn } from '../../core/mapping.js';
import { PlanFindings, type FindingsJson } from '../../core/plan-findings.js';
import { unmappedPaths } from '../../core/plan-unmapped.js';
import { valueAt, type ConvertedDocument, type PendingReference } from '../../core/transform.js';
import { HISTOGRAM_READ_OPTIONS, TypeHistogram, type HistogramJson } from '../../core/type-histogram.js';
import { DEFAULT_MAX_BATCH_BYTES, EXACT_READ_OPTIONS, wireBatchSize } from '../../source/mongo-source.js';
import { runBatch } from '../../pipeline/batch-pipeline.js';
import { UniqueKeyPrediction, type DuplicateFinding } from '../../pipeline/batch-sinks.js';
import { AMBIGUOUS, type ReferenceIndex } from '../../pipeline/reference-index.js';
import { newTiming, type PipelineObserver } from '../../pipeline/settle-batch.js';
import type { RejectRecord } from '../../target/batch-writer.js';
import type { UpdatedAtCheck } from './plan-updated-at.js';

export type { DuplicateFinding } from '../../pipeline/batch-sinks.js';

/** How documents are chosen. */
export type ScanMode =
  | { kind: 'full' }
  /** `$sample` where the server has it; otherwise the first N documents in `_id` order (FerretDB has no `$sample`). */
  | { kind: 'sample'; size: number; method: '$sample' | 'first-by-id' };

export interface ScanContext {
  db: Db;
  /** A prediction's index (source documents count, predicted rejects do not). */
  references: ReferenceIndex;
  mode: ScanMode;
  batchSize: number;
  signal: AbortSignal;
  onBatch?: (read: number) => void;
  /** Whether the collection's updatedAt is usable by the sync (see plan-updated-at.ts). */
  updatedAt?: UpdatedAtCheck;
}

/** Where a model field's value comes from, and how often the source has it. */
export interface ColumnPresence {
  /** `clientId`, or `items[].unitPrice` for a child model's column. */
  field: string;
  present: number;
  nulls: number;
  missing: number;
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
  timing: ScanTiming;
}

type ScanTiming = { readMs: number; decodeMs: number; convertMs: number; referenceMs: number; analyseMs: number; totalMs: number };

export async function scanCollection(collection: MappedCollection, ctx: ScanContext): Promise<CollectionScan> {
  const started = performance.now();
  const histogram = new TypeHistogram();
  const analysis = new PlanAnalysis(collection);
  const prediction = new UniqueKeyPrediction(collection);
  const timing: ScanTiming = { readMs: 0, decodeMs: 0, convertMs: 0, referenceMs: 0, analyseMs: 0, totalMs: 0 };
  const pipeline = newTiming();
  let scanned = 0;
  let wouldWrite = 0;
  const batches = readScanBatches(ctx.db, collection.name, ctx.mode, ctx.batchSize);
  try {
    for (;;) {
      if (ctx.signal.aborted) throw new InterruptedError('Interrupted: the plan was not finished and no plan file was written.');
      let t = performance.now();
      const next = await batches.next();
      timing.readMs += performance.now() - t;
      if (next.done) break;
      t = performance.now();
      const docs = decodeBoth(next.value, histogram);
      timing.decodeMs += performance.now() - t;
      const { settled, outcome } = await runBatch(collection, docs, { references: ctx.references, sink: prediction, observer: analysis, timing: pipeline });
      ctx.updatedAt?.observe(docs);
      await ctx.updatedAt?.compare(docs, settled.docs.map((d) => d.converted));
      wouldWrite += outcome.written;
      scanned += docs.length;
      ctx.onBatch?.(docs.length);
    }
  } finally {
    await batches.return(undefined);
  }
  // The analysis runs as the pipeline's observer: its time is its own, not the conversion's.
  Object.assign(timing, { convertMs: pipeline.convertMs + pipeline.writeMs - analysis.analyseMs, referenceMs: pipeline.referenceMs, analyseMs: analysis.analyseMs });
  timing.totalMs = performance.now() - started;
  for (const k of Object.keys(timing) as (keyof ScanTiming)[]) timing[k] = Math.round(timing[k]);
  return {
    scanned,
    wouldWrite,
    rows: prediction.rows,
    histogram: histogram.toJSON(),
    findings: analysis.findings.toJSON(),
    duplicates: prediction.duplicates(),
    duplicatesIncomplete: prediction.incomplete,
    presence: analysis.presence.toJSON(),
    timing,
  };
}

/** The histogram sees each document unpromoted; the pipeline gets it decoded as migrate reads it. */
function decodeBoth(raws: readonly Uint8Array[], histogram: TypeHistogram): Document[] {
  const docs: Document[] = [];
  for (const raw of raws) {
    histogram.observe(BSON.deserialize(raw, HISTOGRAM_READ_OPTIONS));
    docs.push(BSON.deserialize(raw, EXACT_READ_OPTIONS));
  }
  return docs;
}

/** The plan's findings, told by the pipeline as it goes: rejects, orphans, coercions; and, per source document, column presence and unmapped fields. */
class PlanAnalysis implements PipelineObserver {
  readonly findings = new PlanFindings();
  readonly presence: PresenceCounter;
  analyseMs = 0;

  constructor(private readonly collection: MappedCollection) {
    this.presence = new PresenceCounter(collection);
  }

  source(doc: Document): void {
    const t = performance.now();
    const prepared = prepareSafely(this.collection, doc);
    if (prepared) {
      this.presence.observe(prepared);
      const id = sourceIdKey(doc._id);
      for (const u of unmappedPaths(this.collection, prepared)) this.findings.unmappedField(id, u.path, u.destination);
    }
    this.analyseMs += performance.now() - t;
  }

  rejected(r: RejectRecord): void {
    this.findings.reject(r.sourceKey, r.fieldPath, r.reason);
  }

  orphan(doc: ConvertedDocument, ref: PendingReference, deferred: boolean): void {
    const src = ref.mapped.source;
    // A business key (`by`) several referenced documents hold is its own finding: the source data, not the reference, needs fixing.
    const ambiguous = src.kind === 'reference' && src.by !== undefined && ref.sourceText.endsWith(AMBIGUOUS) ? ` (${src.by.join('.')} not unique in ${ref.targetCollection})` : '';
    this.findings.orphan(doc.sourceKey, `${this.collection.name}.${ref.mapped.label}${ambiguous}`, ref.targetCollection, src.kind === 'reference' ? src.onMissing : 'reject', deferred);
  }

  settled(doc: ConvertedDocument): void {
    for (const c of doc.coercions) this.findings.coercion(doc.sourceKey, c);
  }
}

/** The configuration's `prepare`, whose failure the pipeline already reports as the document's reject. */
function prepareSafely(collection: MappedCollection, doc: Document): SourceDocument | undefined {
  if (!collection.prepare) return doc;
  try {
    return collection.prepare(doc);
  } catch {
    // The configuration's own synchronous code, no I/O: the pipeline already set the document aside for it.
    return undefined;
  }
}

/**
 * Raw BSON documents, in batches bounded in count and bytes like migrate's reader: the whole
 * collection in `_id` order, or a sample. Plan's own reader because the histogram needs each
 * document's BSON (mongo-source's raw batches only decode) and a sample needs `$sample` or a limit.
 */
async function* readScanBatches(db: Db, name: string, mode: ScanMode, batchSize: number): AsyncGenerator<Uint8Array[]> {
  const coll = db.collection(name);
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
    // Closing after a failed read must not hide that read's error.
    await cursor.close().catch(() => undefined);
  }
}

/** Per mapped column: documents (or array elements, for child columns) where the source value is present, null or missing. */
class PresenceCounter {
  private readonly main: { column: MappedColumn; counts: [number, number, number] }[];
  private readonly children: { label: string; from: MappedCollection['children'][number]['from']; valueColumn: string | undefined; columns: { column: MappedColumn; counts: [number, number, number] }[] }[];

  constructor(collection: MappedCollection) {
    const withPath = (cols: readonly MappedColumn[]) => cols.filter((c) => c.source.kind === 'value' || c.source.kind === 'reference').map((column) => ({ column, counts: [0, 0, 0] as [number, number, number] }));
    this.main = withPath(collection.columns);
    this.children = collection.children.map((c) => ({ label: c.label, from: c.from, valueColumn: c.valueColumn, columns: withPath(c.columns) }));
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
      for (const element of value) {
        const plain = element !== null && typeof element === 'object' && !Array.isArray(element) && !(element instanceof Date) && (element as { _bsontype?: unknown })._bsontype === undefined;
        if (plain || (child.valueColumn === undefined && element !== null && typeof element === 'object' && !Array.isArray(element))) count(child.columns, element as SourceDocument);
        else if (child.valueColumn !== undefined && element !== undefined && !Array.isArray(element)) {
          // An array of plain values: the element itself is the value column's source.
          for (const { column, counts } of child.columns) if (column.column.field === child.valueColumn) counts[element === null ? 1 : 0]++;
        }
      }
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
